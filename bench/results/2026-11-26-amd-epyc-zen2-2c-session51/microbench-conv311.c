// Session 51 microbenchmark (gcc -O3 -march=znver2 -fopenmp; OMP_NUM_THREADS=2 ./a.out [prefetch distance in columns, default 6]):
// torchvision r2plus1d_18's 3x1x1 144->64 conv at 2x8x56x56 (54 columns) with 6x16 AVX2 tiles: loop orders, the input held
// in L2 (I) as a bound, and the next tile's input prefetched at each step of 8 channels (A+pf, F+pf).
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
enum { N = 2, D = 8, H = 56, W = 56, C = 144, F = 64, KD = 3, R = 6, WB = 9, FB = 4, CS = 8 };
static float *x, *w, *y;
static int PD = 6;
#define X(n, d, h, ww, c) x[((((size_t)(n) * (D + 2) + (d)) * H + (h)) * W + (ww)) * C + (c)]
#define Y(n, d, h, ww, f) y[((((size_t)(n) * D + (d)) * H + (h)) * W + (ww)) * F + (f)]
static double now() { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }

// One tap's chain over C into 12 accumulators, then stored into (first tap) or added onto the output tile.
static inline __attribute__((always_inline)) void tileTap(const float *xin, const float *wf, float *out, int first,
                                                          int prefetch) {
  __m256 a[R][2];
  for (int r = 0; r < R; ++r) a[r][0] = a[r][1] = _mm256_setzero_ps();
  for (int c0 = 0; c0 < C; c0 += CS) {
    if (prefetch)
      for (int r = 0; r < R; ++r) _mm_prefetch((const char *)(xin + (r + PD) * C + c0), _MM_HINT_T0);
#pragma GCC unroll 8
    for (int c = c0; c < c0 + CS; ++c) {
      __m256 b0 = _mm256_loadu_ps(wf + (size_t)c * F), b1 = _mm256_loadu_ps(wf + (size_t)c * F + 8);
#pragma GCC unroll 6
      for (int r = 0; r < R; ++r) {
        __m256 v = _mm256_broadcast_ss(xin + r * C + c);
        a[r][0] = _mm256_fmadd_ps(v, b0, a[r][0]);
        a[r][1] = _mm256_fmadd_ps(v, b1, a[r][1]);
      }
    }
  }
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < 2; ++j) {
      __m256 s = first ? a[r][j] : _mm256_add_ps(_mm256_loadu_ps(out + r * F + j * 8), a[r][j]);
      _mm256_storeu_ps(out + r * F + j * 8, s);
    }
}
#define TAP(n, d, h, owb, od, oh, fb, kd)                                                                            \
  tileTap(&X(n, d, h, (owb) * R, 0), w + (size_t)(kd) * C * F + (fb) * 16, &Y(n, od, oh, (owb) * R, (fb) * 16),    \
          (kd) == 0, prefetch)

// A: items (n, od, oh, ow-block, f-block), all taps per tile (the compiler's order before session 51).
static inline __attribute__((always_inline)) void orderA(int prefetch) {
#pragma omp parallel for schedule(static)
  for (int it = 0; it < N * D * H * WB * FB; ++it) {
    int fb = it % FB, owb = it / FB % WB, oh = it / FB / WB % H, od = it / FB / WB / H % D, n = it / FB / WB / H / D;
    for (int kd = 0; kd < KD; ++kd) TAP(n, od + kd, oh, owb, od, oh, fb, kd);
  }
}
// D: items (n, oh, od, ow-block, f-block): an input row is reused by the next frames from L2.
static void orderD(void) {
  const int prefetch = 0;
#pragma omp parallel for schedule(static)
  for (int it = 0; it < N * D * H * WB * FB; ++it) {
    int fb = it % FB, owb = it / FB % WB, od = it / FB / WB % D, oh = it / FB / WB / D % H, n = it / FB / WB / D / H;
    for (int kd = 0; kd < KD; ++kd) TAP(n, od + kd, oh, owb, od, oh, fb, kd);
  }
}
// F: row items (n, oh, od, f-block): for each tap, the row's tiles. `resident` reads only a few input rows
// over and over (I: they stay in L2), a bound for what the memory side costs.
static inline __attribute__((always_inline)) void orderF(int prefetch, int resident) {
#pragma omp parallel for schedule(static)
  for (int it = 0; it < N * D * H * FB; ++it) {
    int fb = it % FB, od = it / FB % D, oh = it / FB / D % H, n = it / FB / D / H;
    int d = resident ? od % 2 : od, h = resident ? oh % 2 : oh;
    for (int kd = 0; kd < KD; ++kd)
      for (int owb = 0; owb < WB; ++owb) TAP(n, d + kd, h, owb, od, oh, fb, kd);
  }
}
static void runA(void) { orderA(0); }
static void runAP(void) { orderA(1); }
static void runF(void) { orderF(0, 0); }
static void runFP(void) { orderF(1, 0); }
static void runI(void) { orderF(0, 1); }

int main(int argc, char **argv) {
  if (argc > 1) PD = atoi(argv[1]);
  size_t xs = (size_t)N * (D + 2) * H * W * C, ws = KD * C * F, ys = (size_t)N * D * H * W * F;
  x = aligned_alloc(64, xs * 4), w = aligned_alloc(64, ws * 4), y = aligned_alloc(64, ys * 4);
  for (size_t i = 0; i < xs; ++i) x[i] = (float)(i % 17) * 0.1f;
  for (size_t i = 0; i < ws; ++i) w[i] = (float)(i % 13) * 0.01f;
  const double flops = 2.0 * N * D * H * (WB * R) * F * C * KD;
  void (*runs[])(void) = {runA, runAP, orderD, runF, runFP, runI};
  const char *names[] = {"A", "A+pf", "D", "F", "F+pf", "I (input in L2)"};
  for (int rep = 0; rep < 3; ++rep)
    for (int s = 0; s < 6; ++s) {
      runs[s]();
      double best = 1e9;
      for (int i = 0; i < 5; ++i) {
        double t = now();
        runs[s]();
        t = now() - t;
        if (t < best) best = t;
      }
      printf("%-16s %.2f ms %.1f GFLOP/s\n", names[s], best * 1e3, flops / best * 1e-9);
    }
}
