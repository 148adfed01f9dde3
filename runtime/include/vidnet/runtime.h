/* The vidnet runtime's C API: open a compiled bundle, own a model's buffers, load and save
 * torchvision-compatible safetensors weights, run forward. Usable from C, C++ and dlopen.
 * Every call that can fail returns a vn_status: NULL on success, otherwise a handle with a
 * readable message that the caller frees with vn_status_free. */
#ifndef VIDNET_RUNTIME_H
#define VIDNET_RUNTIME_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vn_status_s *vn_status;
typedef struct vn_bundle_s vn_bundle;
typedef struct vn_model_s vn_model;

const char *vn_status_message(vn_status status);
void vn_status_free(vn_status status);

/* DIR/manifest.json is checked, the CPU's features against the bundle's, the library loaded. */
vn_status vn_bundle_open(const char *dir, vn_bundle **out);
void vn_bundle_close(vn_bundle *bundle);
const char *vn_bundle_model_name(const vn_bundle *bundle);
int64_t vn_bundle_batch(const vn_bundle *bundle);
int64_t vn_bundle_classes(const vn_bundle *bundle);
/* One clip as torchvision takes it: C, L, H, W. */
void vn_bundle_clip_shape(const vn_bundle *bundle, int64_t shape[4]);

/* The model keeps a pointer to its bundle: close the bundle after destroying its models.
 * A new model is initialized with seed 0 (see vn_model_initialize). */
vn_status vn_model_create(const vn_bundle *bundle, vn_model **out);
/* A new model initialized with `seed`: vn_model_create and vn_model_initialize, drawing once. */
vn_status vn_model_create_seeded(const vn_bundle *bundle, uint64_t seed, vn_model **out);
/* A new model holding a safetensors file's weights (see vn_model_load_weights), without first
 * drawing the initial weights the file replaces. */
vn_status vn_model_open_weights(const vn_bundle *bundle, const char *path, vn_model **out);
void vn_model_destroy(vn_model *model);
/* torchvision's initialization rules, from a deterministic generator seeded by `seed`. */
void vn_model_initialize(vn_model *model, uint64_t seed);
/* safetensors with torchvision's state_dict names and PyTorch layouts. A failed load leaves
 * the model unchanged; a save goes to a temporary file renamed into place. */
vn_status vn_model_load_weights(vn_model *model, const char *path);
vn_status vn_model_save_weights(const vn_model *model, const char *path);
/* clips: n x C x L x H x W float32; logits: n x classes. Eval-mode batch norm. */
vn_status vn_model_forward(vn_model *model, const float *clips, int64_t n, float *logits);

/* Clips per train step (the batch the bundle was built with); 0 if built --forward-only. */
int64_t vn_bundle_train_batch(const vn_bundle *bundle);
/* One torch.optim.SGD step with training-mode BN on vn_bundle_train_batch clips
 * (N x C x L x H x W float32) and int64 labels in [0, classes): hyper = {lr, momentum,
 * weight_decay}. Writes the mean cross-entropy to *loss and the logits (N x classes, before
 * the update). Momentum buffers start at zero (reset by vn_model_load_weights when the file
 * has none). */
vn_status vn_model_train_step(vn_model *model, const float *clips, const int64_t *labels, const float hyper[3],
                              float *loss, float *logits);

#ifdef __cplusplus
}
#endif

#endif /* VIDNET_RUNTIME_H */
