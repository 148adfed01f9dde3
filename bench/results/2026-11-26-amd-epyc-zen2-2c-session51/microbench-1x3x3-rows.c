// Session 51 microbenchmark (clang -O3 -march=znver2 -pthread; ./a.out THREADS): torchvision r2plus1d_18's 1x3x3 64->144 conv at 2x8x56x56 with 4x24 AVX2 tiles: all taps per tile (A) against row items with the tap rows outside the tiles (R), and a compute-bound run (E).
// microbench: 1x3x3 64->144 at 8x56x56 (r2plus1d layer1), AVX2 4x24 tiles, packed filter [fb][kh][kw][c][24]
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <time.h>
enum { N = 2, D = 8, HP = 58, WP = 58, C = 64, F = 144, OH = 56, OW = 56, R = 4, WB = 14, FB = 6 };
static float *x, *wp, *y;
#define X(n, d, h, w, c) x[((((size_t)(n) * D + (d)) * HP + (h)) * WP + (w)) * C + (c)]
#define Y(n, d, h, w, f) y[((((size_t)(n) * D + (d)) * OH + (h)) * OW + (w)) * F + (f)]
static double now() { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
// one tap row (kh): sum over kw, c into 12 accs; out = (first ? 0 : out) + row
static inline void tapRow(const float *xin, const float *wt, float *out, int first) {
  __m256 a[R][3];
  for (int r = 0; r < R; ++r) a[r][0] = a[r][1] = a[r][2] = _mm256_setzero_ps();
  for (int kw = 0; kw < 3; ++kw)
    for (int c = 0; c < C; ++c) {
      const float *b = wt + (kw * C + c) * 24;
      __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8), b2 = _mm256_load_ps(b + 16);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        __m256 v = _mm256_broadcast_ss(xin + (r + kw) * C + c);
        a[r][0] = _mm256_fmadd_ps(v, b0, a[r][0]);
        a[r][1] = _mm256_fmadd_ps(v, b1, a[r][1]);
        a[r][2] = _mm256_fmadd_ps(v, b2, a[r][2]);
      }
    }
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < 3; ++j) {
      __m256 s = first ? a[r][j] : _mm256_add_ps(_mm256_loadu_ps(out + r * F + j * 8), a[r][j]);
      _mm256_storeu_ps(out + r * F + j * 8, s);
    }
}
static int items_stratA(void) { return N * D * FB * OH * WB; }
static void stratA_r(int lo, int hi) { // (n, od, fb, oh, owb): all taps per tile
  for (int it = lo; it < hi; ++it) {
    int owb = it % WB, oh = it / WB % OH, fb = it / WB / OH % FB, od = it / WB / OH / FB % D, n = it / WB / OH / FB / D;
    for (int kh = 0; kh < 3; ++kh)
      tapRow(&X(n, od, oh + kh, owb * R, 0), wp + ((size_t)fb * 9 + kh * 3) * C * 24, &Y(n, od, oh, owb * R, fb * 24), kh == 0);
  }
}
static int items_stratR(void) { return N * D * FB * OH; }
static void stratR_r(int lo, int hi) { // row items (n, od, fb, oh): for kh: for owb
  for (int it = lo; it < hi; ++it) {
    int oh = it % OH, fb = it / OH % FB, od = it / OH / FB % D, n = it / OH / FB / D;
    for (int kh = 0; kh < 3; ++kh)
      for (int owb = 0; owb < WB; ++owb)
        tapRow(&X(n, od, oh + kh, owb * R, 0), wp + ((size_t)fb * 9 + kh * 3) * C * 24, &Y(n, od, oh, owb * R, fb * 24), kh == 0);
  }
}
static int items_stratE(void) { return N * D * FB * OH * WB; }
static void stratE_r(int lo, int hi) { // compute bound: same filter tap row, same input
  for (int it = lo; it < hi; ++it) {
    for (int kh = 0; kh < 3; ++kh)
      tapRow(&X(0, 0, kh, (it & 1) * R, 0), wp, &Y(0, 0, 0, (it & 1) * R, 0), kh == 0);
  }
}
typedef struct { void (*f)(int, int); int lo, hi; } Job;
static void *runJob(void *p) { Job *j = p; j->f(j->lo, j->hi); return 0; }
static int NT = 2;
static void par(void (*f)(int, int), int items) {
  pthread_t t[8]; Job j[8];
  for (int i = 0; i < NT; ++i) { j[i].f = f; j[i].lo = items * i / NT; j[i].hi = items * (i + 1) / NT; pthread_create(&t[i], 0, runJob, &j[i]); }
  for (int i = 0; i < NT; ++i) pthread_join(t[i], 0);
}
static void stratA(void) { par(stratA_r, items_stratA()); }
static void stratR(void) { par(stratR_r, items_stratR()); }
static void stratE(void) { par(stratE_r, items_stratE()); }
int main(int argc, char **argv) {
  if (argc > 1) NT = atoi(argv[1]);
  size_t xs = (size_t)N * D * HP * WP * C, ws = (size_t)FB * 9 * C * 24, ys = (size_t)N * D * OH * OW * F;
  x = aligned_alloc(64, xs * 4); wp = aligned_alloc(64, ws * 4); y = aligned_alloc(64, ys * 4);
  for (size_t i = 0; i < xs; ++i) x[i] = (float)(i % 17) * 0.1f;
  for (size_t i = 0; i < ws; ++i) wp[i] = (float)(i % 13) * 0.01f;
  double flops = 2.0 * N * D * OH * OW * F * C * 9;
  void (*fs[])(void) = {stratA, stratR, stratE};
  const char *names[] = {"A (n,od,fb,oh,owb)", "R row items, kh outer", "E compute bound"};
  for (int rep = 0; rep < 2; ++rep)
    for (int s = 0; s < 3; ++s) {
      fs[s]();
      double best = 1e9;
      for (int i = 0; i < 5; ++i) { double t = now(); fs[s](); t = now() - t; if (t < best) best = t; }
      printf("%-24s %.2f ms %.1f GF/s\n", names[s], best * 1e3, flops / best * 1e-9);
    }
}
