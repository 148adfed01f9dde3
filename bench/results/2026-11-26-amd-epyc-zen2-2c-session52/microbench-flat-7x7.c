// Session 52 microbenchmark (clang-14 -O3 -march=znver2 -pthread microbench-flat-7x7.c -o flat && ./flat 1 && ./flat 2): mc3_18 layer4 1x3x3 at 8x7x7 per clip, frame pairs 2x7x8 against flat 6x16, 5x16 and 4x16 position tiles, all taps (padding included); argument 2 is the 256->512 /1x2x2 conv.
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>
enum { D = 8, OH = 7, OW = 7, F = 512 };
static int C = 512, S = 1, HP = 9, WP = 9;
static float *x, *w8, *w16, *y;
static double now() { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
#define XI(d, h, ww) (x + (((size_t)(d) * HP + (h)) * WP + (ww)) * C)
// frame pairs: 14 rows (2 frames x 7 cols) x 8 lanes
static void pair_tile(int fb, int od, int oh) {
  __m256 a[14];
  for (int r = 0; r < 14; ++r) a[r] = _mm256_setzero_ps();
  const float *wf = w8 + (size_t)fb * 9 * C * 8;
  for (int kh = 0; kh < 3; ++kh)
    for (int kw = 0; kw < 3; ++kw) {
      const float *xr0 = XI(od, oh * S + kh, kw), *xr1 = XI(od + 1, oh * S + kh, kw);
      const float *wt = wf + (size_t)(kh * 3 + kw) * C * 8;
      for (int c = 0; c < C; ++c) {
        __m256 b = _mm256_load_ps(wt + c * 8);
#pragma clang loop unroll(full)
        for (int r = 0; r < 7; ++r) {
          a[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(xr0 + r * S * C + c), b, a[r]);
          a[7 + r] = _mm256_fmadd_ps(_mm256_broadcast_ss(xr1 + r * S * C + c), b, a[7 + r]);
        }
      }
    }
  for (int r = 0; r < 14; ++r) {
    int d = od + r / 7, ow = r % 7;
    _mm256_storeu_ps(y + (((size_t)d * OH + oh) * OW + ow) * F + fb * 8, a[r]);
  }
}
// flattened: R positions p0..p0+R-1 of the clip (d, oh, ow) x 16 lanes
#define FLAT(R)                                                                                   \
  static void flat_tile##R(int fb, int p0) {                                                      \
    __m256 a[R][2];                                                                               \
    const float *base[R];                                                                         \
    for (int r = 0; r < R; ++r) {                                                                 \
      int p = p0 + r; if (p >= D * OH * OW) p = D * OH * OW - 1;                                  \
      int d = p / (OH * OW), oh = p / OW % OH, ow = p % OW;                                       \
      base[r] = XI(d, oh * S, ow * S);                                                            \
      a[r][0] = a[r][1] = _mm256_setzero_ps();                                                    \
    }                                                                                             \
    const float *wf = w16 + (size_t)fb * 9 * C * 16;                                              \
    for (int kh = 0; kh < 3; ++kh)                                                                \
      for (int kw = 0; kw < 3; ++kw) {                                                            \
        const size_t off = ((size_t)kh * WP + kw) * C;                                            \
        const float *wt = wf + (size_t)(kh * 3 + kw) * C * 16;                                    \
        for (int c = 0; c < C; ++c) {                                                             \
          __m256 b0 = _mm256_load_ps(wt + c * 16), b1 = _mm256_load_ps(wt + c * 16 + 8);          \
          _Pragma("clang loop unroll(full)") for (int r = 0; r < R; ++r) {                        \
            __m256 v = _mm256_broadcast_ss(base[r] + off + c);                                    \
            a[r][0] = _mm256_fmadd_ps(v, b0, a[r][0]);                                            \
            a[r][1] = _mm256_fmadd_ps(v, b1, a[r][1]);                                            \
          }                                                                                       \
        }                                                                                         \
      }                                                                                           \
    for (int r = 0; r < R; ++r) {                                                                 \
      int p = p0 + r; if (p >= D * OH * OW) break;                                                \
      _mm256_storeu_ps(y + (size_t)p * F + fb * 16, a[r][0]);                                     \
      _mm256_storeu_ps(y + (size_t)p * F + fb * 16 + 8, a[r][1]);                                 \
    }                                                                                             \
  }
FLAT(6)
FLAT(5)
FLAT(4)
static int mode;
static void *work(void *arg) {
  int t = (int)(size_t)arg;
  if (mode == 0) { // items (od pair, fb, oh) like ours (filter not inner)
    int items = D / 2 * (F / 8) * OH;
    for (int i = t * items / 2; i < (t + 1) * items / 2; ++i) {
      int oh = i % OH, fb = i / OH % (F / 8), odp = i / OH / (F / 8);
      pair_tile(fb, odp * 2, oh);
    }
  } else {
    int R = mode == 1 ? 6 : mode == 2 ? 5 : 4;
    int tiles = (D * OH * OW + R - 1) / R;
    int items = (F / 16) * tiles;
    for (int i = t * items / 2; i < (t + 1) * items / 2; ++i) {
      int tile = i % tiles, fb = i / tiles;
      if (R == 6) flat_tile6(fb, tile * 6); else if (R == 5) flat_tile5(fb, tile * 5); else flat_tile4(fb, tile * 4);
    }
  }
  return 0;
}
int main(int argc, char **argv) {
  S = argc > 1 ? atoi(argv[1]) : 1;
  if (S == 2) { C = 256; HP = WP = 16; }
  x = aligned_alloc(64, sizeof(float) * D * HP * WP * C + 4096);
  w8 = aligned_alloc(64, sizeof(float) * 9 * C * F);
  w16 = aligned_alloc(64, sizeof(float) * 9 * C * F);
  y = aligned_alloc(64, sizeof(float) * D * OH * OW * F);
  for (size_t i = 0; i < (size_t)D * HP * WP * C; ++i) x[i] = (float)(i % 13) * 0.01f;
  for (size_t i = 0; i < (size_t)9 * C * F; ++i) w8[i] = w16[i] = (float)(i % 7) * 0.01f;
  double flops = 2.0 * D * OH * OW * F * C * 9;
  for (mode = 0; mode < 4; ++mode) {
    double best = 1e9;
    for (int rep = 0; rep < 15; ++rep) {
      pthread_t th[2];
      double t0 = now();
      for (int t = 0; t < 2; ++t) pthread_create(&th[t], 0, work, (void *)(size_t)t);
      for (int t = 0; t < 2; ++t) pthread_join(th[t], 0);
      double dt = now() - t0;
      if (dt < best) best = dt;
    }
    printf("stride %d mode %s: %.2f ms, %.1f GFLOP/s (all taps, per clip)\n", S,
           mode == 0 ? "frame pairs 2x7x8" : mode == 1 ? "flat 6x16" : mode == 2 ? "flat 5x16" : "flat 4x16", best * 1e3,
           flops / best * 1e-9);
  }
}
