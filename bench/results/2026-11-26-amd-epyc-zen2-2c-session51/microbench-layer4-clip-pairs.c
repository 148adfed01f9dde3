// Session 51 microbenchmark (gcc -O3 -march=znver2 -fopenmp; OMP_NUM_THREADS=2 ./a.out FBMOD PREFETCH FLUSH): a layer4 1x3x3 512->512 conv at 2 x 7x7 (r3d_18, mc3_18): 4x16 tiles against clip-pair 2x7x8 tiles, with the filter from memory (read-only flush) and the next filter block prefetched.
// microbench: 1x3x3 512->512 at 7x7, 2 clips (r3d_18/mc3_18 layer4 shape), AVX2
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <omp.h>
#include <time.h>
enum { N = 2, HP = 9, WP = 10, C = 512, F = 512, OH = 7 };
static float *x, *wp8, *wp16, *y;
static int FBMOD = 1 << 30, PF = 0, FLUSH = 0; static float *junk; static volatile float sinkv; static float sink;
#define X(n, h, w, c) x[(((size_t)(n) * HP + (h)) * WP + (w)) * C + (c)]
#define Y(n, h, w, f) y[(((size_t)(n) * OH + (h)) * 8 + (w)) * F + (f)]
static double now() { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
// 4 cols x 16 lanes, all 9 taps; wf = packed [kh][kw][c][16]
static inline void tile4x16(const float *xin, const float *wf, float *out, const float *pfnext) {
  __m256 a[4][2];
  for (int r = 0; r < 4; ++r) a[r][0] = a[r][1] = _mm256_setzero_ps();
  for (int kh = 0; kh < 3; ++kh)
    for (int kw = 0; kw < 3; ++kw) {
      const float *xi = xin + ((size_t)kh * WP + kw) * C, *wt = wf + (size_t)(kh * 3 + kw) * C * 16;
      for (int c = 0; c < C; ++c) {
        if (PF && (c & 3) == 0) _mm_prefetch((const char *)(pfnext + ((size_t)(kh * 3 + kw) * C + c) * 16), _MM_HINT_T1);
        __m256 b0 = _mm256_load_ps(wt + c * 16), b1 = _mm256_load_ps(wt + c * 16 + 8);
#pragma GCC unroll 4
        for (int r = 0; r < 4; ++r) {
          __m256 v = _mm256_broadcast_ss(xi + r * C + c);
          a[r][0] = _mm256_fmadd_ps(v, b0, a[r][0]);
          a[r][1] = _mm256_fmadd_ps(v, b1, a[r][1]);
        }
      }
    }
  for (int r = 0; r < 4; ++r) { _mm256_storeu_ps(out + r * F, a[r][0]); _mm256_storeu_ps(out + r * F + 8, a[r][1]); }
}
// two clips x 7 cols x 8 lanes
static inline void pair7x8(const float *x0, const float *x1, const float *wf, float *o0, float *o1, const float *pn) {
  __m256 a[2][7];
  for (int r = 0; r < 7; ++r) a[0][r] = a[1][r] = _mm256_setzero_ps();
  for (int kh = 0; kh < 3; ++kh)
    for (int kw = 0; kw < 3; ++kw) {
      const float *p0 = x0 + ((size_t)kh * WP + kw) * C, *p1 = x1 + ((size_t)kh * WP + kw) * C, *wt = wf + (size_t)(kh * 3 + kw) * C * 8;
      const float *q = pn ? pn + (size_t)(kh * 3 + kw) * C * 8 : wt;
      for (int c0 = 0; c0 < C; c0 += 8) {
        _mm_prefetch((const char *)(q + c0 * 8), _MM_HINT_T1); _mm_prefetch((const char *)(q + c0 * 8 + 16), _MM_HINT_T1);
        _mm_prefetch((const char *)(q + c0 * 8 + 32), _MM_HINT_T1); _mm_prefetch((const char *)(q + c0 * 8 + 48), _MM_HINT_T1);
#pragma GCC unroll 8
      for (int c = c0; c < c0 + 8; ++c) {
        __m256 b = _mm256_load_ps(wt + c * 8);
#pragma GCC unroll 7
        for (int r = 0; r < 7; ++r) {
          a[0][r] = _mm256_fmadd_ps(_mm256_broadcast_ss(p0 + r * C + c), b, a[0][r]);
          a[1][r] = _mm256_fmadd_ps(_mm256_broadcast_ss(p1 + r * C + c), b, a[1][r]);
        }
      }
      }
    }
  for (int r = 0; r < 7; ++r) { _mm256_storeu_ps(o0 + r * F, a[0][r]); _mm256_storeu_ps(o1 + r * F, a[1][r]); }
}
static void v1(void) { // items (n, fb, oh, owb)
  int items = N * 32 * OH * 2;
#pragma omp parallel for schedule(static)
  for (int it = 0; it < items; ++it) {
    int owb = it % 2, oh = it / 2 % OH, fb = it / 2 / OH % 32, n = it / 2 / OH / 32;
    int f = fb % FBMOD, fn = (fb + 1) % 32 % FBMOD;
    tile4x16(&X(n, oh, owb * 4, 0), wp16 + (size_t)f * 9 * C * 16, &Y(n, oh, owb * 4, fb * 16), wp16 + (size_t)fn * 9 * C * 16);
  }
}
static void v1b(void) { // items (fb, n, oh, owb): fb outer so both clips share the filter slice
  int items = N * 32 * OH * 2;
#pragma omp parallel for schedule(static)
  for (int it = 0; it < items; ++it) {
    int owb = it % 2, oh = it / 2 % OH, n = it / 2 / OH % N, fb = it / 2 / OH / N;
    int f = fb % FBMOD, fn = (fb + 1) % 32 % FBMOD;
    tile4x16(&X(n, oh, owb * 4, 0), wp16 + (size_t)f * 9 * C * 16, &Y(n, oh, owb * 4, fb * 16), wp16 + (size_t)fn * 9 * C * 16);
  }
}
static void v2(void) { // clip pairs: items (fb8, oh)
  int items = 64 * OH;
#pragma omp parallel for schedule(static)
  for (int it = 0; it < items; ++it) {
    int oh = it % OH, fb = it / OH, f = fb % FBMOD;
    const float *pn = PF == 0 || fb == 63 || (PF == 2 && oh != 0) ? 0 : wp8 + (size_t)(f + 1) * 9 * C * 8;
    pair7x8(&X(0, oh, 0, 0), &X(1, oh, 0, 0), wp8 + (size_t)f * 9 * C * 8, &Y(0, oh, 0, fb * 8), &Y(1, oh, 0, fb * 8), pn);
  }
}
int main(int argc, char **argv) {
  if (argc > 1) FBMOD = atoi(argv[1]);
  if (argc > 2) PF = atoi(argv[2]);
  if (argc > 3) FLUSH = atoi(argv[3]);
  junk = calloc((64u << 20) / 4, 4);
  size_t xs = (size_t)N * HP * WP * C, ws = 9 * (size_t)C * F, ys = (size_t)N * OH * 8 * F;
  x = aligned_alloc(64, xs * 4); wp8 = aligned_alloc(64, ws * 4); wp16 = aligned_alloc(64, ws * 4); y = aligned_alloc(64, ys * 4);
  for (size_t i = 0; i < xs; ++i) x[i] = (float)(i % 17) * 0.1f;
  for (size_t i = 0; i < ws; ++i) wp8[i] = wp16[i] = (float)(i % 13) * 0.01f;
  double flops = 2.0 * N * OH * 7 * F * C * 9;
  void (*fs[])(void) = {v1, v1b, v2};
  const char *names[] = {"4x16 (n,fb,oh,owb)", "4x16 (fb,n,oh,owb)", "clip pairs 2x7x8"};
  for (int rep = 0; rep < 2; ++rep)
    for (int s = 0; s < 3; ++s) {
      fs[s]();
      double best = 1e9;
      for (int i = 0; i < 20; ++i) {
        if (FLUSH) {
          for (size_t j = 0; j < (64u << 20) / 4; j += 16) sink += junk[j];
        }
        sinkv = sink; double t = now(); fs[s](); t = now() - t; if (t < best) best = t; }
      printf("%-22s %.3f ms %.1f GF/s (7-col flops)\n", names[s], best * 1e3, flops / best * 1e-9);
    }
}
