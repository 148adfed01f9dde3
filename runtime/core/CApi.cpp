// The C API over the C++ runtime core: opaque handles, status objects, no exceptions across.
#include "vidnet/runtime.h"

#include "runtime/core/Model.h"

#include <new>

struct vn_status_s {
  std::string message;
};
struct vn_bundle_s {
  std::unique_ptr<vidnet::rt::Bundle> bundle;
};
struct vn_model_s {
  std::unique_ptr<vidnet::rt::Model> model;
};

namespace {

vn_status failure(std::string message) { return new (std::nothrow) vn_status_s{std::move(message)}; }

template <typename F>
vn_status guarded(F &&body) {
  try {
    return body();
  } catch (const std::bad_alloc &) {
    return failure("out of memory");
  } catch (const std::exception &e) {
    return failure(std::string("internal error: ") + e.what());
  }
}

} // namespace

extern "C" {

const char *vn_status_message(vn_status status) { return status ? status->message.c_str() : "ok"; }
void vn_status_free(vn_status status) { delete status; }

vn_status vn_bundle_open(const char *dir, vn_bundle **out) {
  return guarded([&]() -> vn_status {
    *out = nullptr;
    std::string error;
    auto bundle = vidnet::rt::Bundle::open(dir, error);
    if (!bundle)
      return failure(error);
    *out = new vn_bundle_s{std::move(bundle)};
    return nullptr;
  });
}
void vn_bundle_close(vn_bundle *bundle) { delete bundle; }
const char *vn_bundle_model_name(const vn_bundle *b) { return b->bundle->manifest().model.c_str(); }
int64_t vn_bundle_batch(const vn_bundle *b) { return b->bundle->manifest().batch; }
int64_t vn_bundle_classes(const vn_bundle *b) { return b->bundle->manifest().classes; }
void vn_bundle_clip_shape(const vn_bundle *b, int64_t shape[4]) {
  const vidnet::rt::Manifest &m = b->bundle->manifest();
  shape[0] = m.channels, shape[1] = m.frames, shape[2] = m.height, shape[3] = m.width;
}

vn_status vn_model_create(const vn_bundle *bundle, vn_model **out) { return vn_model_create_seeded(bundle, 0, out); }
vn_status vn_model_create_seeded(const vn_bundle *bundle, uint64_t seed, vn_model **out) {
  return guarded([&]() -> vn_status {
    *out = nullptr;
    *out = new vn_model_s{std::make_unique<vidnet::rt::Model>(*bundle->bundle, seed)};
    return nullptr;
  });
}
vn_status vn_model_open_weights(const vn_bundle *bundle, const char *path, vn_model **out) {
  return guarded([&]() -> vn_status {
    *out = nullptr;
    std::string error;
    std::unique_ptr<vidnet::rt::Model> model = vidnet::rt::Model::fromWeights(*bundle->bundle, path, error);
    if (!model)
      return failure(error);
    *out = new vn_model_s{std::move(model)};
    return nullptr;
  });
}
void vn_model_destroy(vn_model *model) { delete model; }
void vn_model_initialize(vn_model *model, uint64_t seed) { model->model->initialize(seed); }

vn_status vn_model_load_weights(vn_model *model, const char *path) {
  return guarded([&]() -> vn_status {
    std::string error;
    return model->model->loadWeights(path, error) ? nullptr : failure(error);
  });
}
vn_status vn_model_save_weights(const vn_model *model, const char *path) {
  return guarded([&]() -> vn_status {
    std::string error;
    return model->model->saveWeights(path, error) ? nullptr : failure(error);
  });
}
vn_status vn_model_forward(vn_model *model, const float *clips, int64_t n, float *logits) {
  return guarded([&]() -> vn_status {
    if (n < 1)
      return failure("forward: need at least one clip, got " + std::to_string(n));
    std::string error;
    return model->model->forward(clips, n, logits, error) ? nullptr : failure(error);
  });
}

int64_t vn_bundle_train_batch(const vn_bundle *bundle) {
  return bundle->bundle->hasTrainStep() ? bundle->bundle->manifest().trainBatch : 0;
}

vn_status vn_model_train_step(vn_model *model, const float *clips, const int64_t *labels, const float hyper[3],
                              float *loss, float *logits) {
  return guarded([&]() -> vn_status {
    std::string error;
    if (!model->model->trainStep(clips, labels, {hyper[0], hyper[1], hyper[2]}, *loss, logits, error))
      return failure(error);
    return nullptr;
  });
}

} // extern "C"
