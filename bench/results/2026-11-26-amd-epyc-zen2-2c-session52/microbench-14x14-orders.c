// Session 52 microbenchmark (clang-14 -O3 -march=znver2 -pthread microbench-14x14-orders.c -o l3 && ./l3): mc3_18 layer3 1x3x3 256->256 at 8x14x14 per clip in rows of 3 x 5-column tiles x 16 lanes: order A (each tile sums its tap row, as the compiled code) against order B (tap by tap, the tiles inner, partial sums through L1). Not adopted: A 188-193 GFLOP/s, B 185.
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <time.h>
enum { D = 8, OH = 14, OW = 14, OWP = 15, C = 256, F = 256, HP = 16, WP = 17 };
static float *x, *w, *y;
static double now() { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
#define XI(d, h, ww) (x + (((size_t)(d) * HP + (h)) * WP + (ww)) * C)
static inline void tile(const float *xr, const float *wt, __m256 a[5][2]) {
  for (int c = 0; c < C; ++c) {
    __m256 b0 = _mm256_load_ps(wt + c * 16), b1 = _mm256_load_ps(wt + c * 16 + 8);
#pragma clang loop unroll(full)
    for (int r = 0; r < 5; ++r) {
      __m256 v = _mm256_broadcast_ss(xr + r * C + c);
      a[r][0] = _mm256_fmadd_ps(v, b0, a[r][0]);
      a[r][1] = _mm256_fmadd_ps(v, b1, a[r][1]);
    }
  }
}
static int mode;
static void row(int od, int fb, int oh) {
  float *out = y + (((size_t)od * OH + oh) * OWP) * F + fb * 16; // row stride F per column
  __attribute__((aligned(64))) float part[OWP][16];
  for (int i = 0; i < OWP; ++i) for (int l = 0; l < 16; ++l) out[i * F + l] = 0;
  const float *wf = w + (size_t)fb * 9 * C * 16;
  for (int kh = 0; kh < 3; ++kh) {
    if (mode == 0) {
      for (int t = 0; t < 3; ++t) {
        __m256 a[5][2];
        for (int r = 0; r < 5; ++r) a[r][0] = a[r][1] = _mm256_setzero_ps();
        for (int kw = 0; kw < 3; ++kw) tile(XI(od, oh + kh, t * 5 + kw), wf + (size_t)(kh * 3 + kw) * C * 16, a);
        for (int r = 0; r < 5; ++r) {
          float *o = out + (t * 5 + r) * F;
          _mm256_storeu_ps(o, _mm256_add_ps(_mm256_loadu_ps(o), a[r][0]));
          _mm256_storeu_ps(o + 8, _mm256_add_ps(_mm256_loadu_ps(o + 8), a[r][1]));
        }
      }
    } else {
      for (int i = 0; i < OWP; ++i) for (int l = 0; l < 16; ++l) part[i][l] = 0;
      for (int kw = 0; kw < 3; ++kw)
        for (int t = 0; t < 3; ++t) {
          __m256 a[5][2];
          for (int r = 0; r < 5; ++r) a[r][0] = _mm256_load_ps(part[t * 5 + r]), a[r][1] = _mm256_load_ps(part[t * 5 + r] + 8);
          tile(XI(od, oh + kh, t * 5 + kw), wf + (size_t)(kh * 3 + kw) * C * 16, a);
          for (int r = 0; r < 5; ++r) _mm256_store_ps(part[t * 5 + r], a[r][0]), _mm256_store_ps(part[t * 5 + r] + 8, a[r][1]);
        }
      for (int i = 0; i < OWP; ++i) {
        float *o = out + i * F;
        _mm256_storeu_ps(o, _mm256_add_ps(_mm256_loadu_ps(o), _mm256_load_ps(part[i])));
        _mm256_storeu_ps(o + 8, _mm256_add_ps(_mm256_loadu_ps(o + 8), _mm256_load_ps(part[i] + 8)));
      }
    }
  }
}
static void *work(void *arg) {
  int t = (int)(size_t)arg, items = D * (F / 16) * OH;
  for (int i = t * items / 2; i < (t + 1) * items / 2; ++i) row(i / OH / (F / 16), i / OH % (F / 16), i % OH);
  return 0;
}
int main() {
  x = aligned_alloc(64, sizeof(float) * D * HP * WP * C);
  w = aligned_alloc(64, sizeof(float) * 9 * C * F);
  y = aligned_alloc(64, sizeof(float) * D * OH * OWP * F);
  for (size_t i = 0; i < (size_t)D * HP * WP * C; ++i) x[i] = (float)(i % 13) * 0.01f;
  for (size_t i = 0; i < (size_t)9 * C * F; ++i) w[i] = (float)(i % 7) * 0.01f;
  double flops = 2.0 * D * OH * OW * F * C * 9;
  for (int rep2 = 0; rep2 < 2; ++rep2)
  for (mode = 0; mode < 2; ++mode) {
    double best = 1e9;
    for (int rep = 0; rep < 20; ++rep) {
      pthread_t th[2]; double t0 = now();
      for (int t = 0; t < 2; ++t) pthread_create(&th[t], 0, work, (void *)(size_t)t);
      for (int t = 0; t < 2; ++t) pthread_join(th[t], 0);
      double dt = now() - t0; if (dt < best) best = dt;
    }
    printf("order %s: %.2f ms, %.1f GFLOP/s (14 of 15 columns useful, all taps)\n", mode ? "B kw-tiles" : "A tiles-kw", best * 1e3, flops / best * 1e-9);
  }
}
