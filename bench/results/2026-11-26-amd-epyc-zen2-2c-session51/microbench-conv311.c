// Session 51 microbenchmark (gcc -O3 -march=znver2 -fopenmp; OMP_NUM_THREADS=2 ./a.out [prefetch distance]): torchvision r2plus1d_18's 3x1x1 144->64 conv at 2x8x56x56 (54 columns) with 6x16 AVX2 tiles: loop orders, an L1-resident bound (E) and the next tile's input prefetched (a, f).
// microbench: 3x1x1 144->64 conv at 2x8x56x56 (AVX2), strategies for the memory side
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>
#include <time.h>
enum { N = 2, D = 8, H = 56, W = 56, C = 144, F = 64, KD = 3, R = 6, WB = 9 };
static float *x, *w, *wp, *y; static int PD = 6;
#define X(n, d, h, ww, c) x[((((size_t)(n) * (D + 2) + (d)) * H + (h)) * W + (ww)) * C + (c)]
#define Y(n, d, h, ww, f) y[((((size_t)(n) * D + (d)) * H + (h)) * W + (ww)) * F + (f)]
static double now() { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }

// one tap's chain over C into 12 accs, then add into out tile (memory, ld F)
static inline void tileTap(const float *xin, const float *wf, int wld, float *out, int first) {
  __m256 a[R][2];
  for (int r = 0; r < R; ++r) a[r][0] = a[r][1] = _mm256_setzero_ps();
  for (int c = 0; c < C; ++c) {
    __m256 b0 = _mm256_loadu_ps(wf + (size_t)c * wld), b1 = _mm256_loadu_ps(wf + (size_t)c * wld + 8);
    for (int r = 0; r < R; ++r) {
      __m256 v = _mm256_broadcast_ss(xin + r * C + c);
      a[r][0] = _mm256_fmadd_ps(v, b0, a[r][0]);
      a[r][1] = _mm256_fmadd_ps(v, b1, a[r][1]);
    }
  }
  for (int r = 0; r < R; ++r) {
    if (first) { _mm256_storeu_ps(out + r * F, a[r][0]); _mm256_storeu_ps(out + r * F + 8, a[r][1]); }
    else {
      _mm256_storeu_ps(out + r * F, _mm256_add_ps(_mm256_loadu_ps(out + r * F), a[r][0]));
      _mm256_storeu_ps(out + r * F + 8, _mm256_add_ps(_mm256_loadu_ps(out + r * F + 8), a[r][1]));
    }
  }
}
static inline void tileTapP(const float *xin, const float *wf, int wld, float *out, int first) {
  __m256 a[R][2];
  for (int r = 0; r < R; ++r) a[r][0] = a[r][1] = _mm256_setzero_ps();
  for (int c0 = 0; c0 < C; c0 += CS) {
    _mm_prefetch((const char *)(xin + (0 + PD) * C + c0), _MM_HINT_T0);
    _mm_prefetch((const char *)(xin + (1 + PD) * C + c0), _MM_HINT_T0);
    _mm_prefetch((const char *)(xin + (2 + PD) * C + c0), _MM_HINT_T0);
    _mm_prefetch((const char *)(xin + (3 + PD) * C + c0), _MM_HINT_T0);
    _mm_prefetch((const char *)(xin + (4 + PD) * C + c0), _MM_HINT_T0);
    _mm_prefetch((const char *)(xin + (5 + PD) * C + c0), _MM_HINT_T0);
#pragma GCC unroll 4
  for (int c = c0; c < c0 + CS; ++c) {
    __m256 b0 = _mm256_loadu_ps(wf + (size_t)c * wld), b1 = _mm256_loadu_ps(wf + (size_t)c * wld + 8);
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r) {
      __m256 v = _mm256_broadcast_ss(xin + r * C + c);
      a[r][0] = _mm256_fmadd_ps(v, b0, a[r][0]);
      a[r][1] = _mm256_fmadd_ps(v, b1, a[r][1]);
    }
  }
  }
  for (int r = 0; r < R; ++r) {
    if (first) { _mm256_storeu_ps(out + r * F, a[r][0]); _mm256_storeu_ps(out + r * F + 8, a[r][1]); }
    else {
      _mm256_storeu_ps(out + r * F, _mm256_add_ps(_mm256_loadu_ps(out + r * F), a[r][0]));
      _mm256_storeu_ps(out + r * F + 8, _mm256_add_ps(_mm256_loadu_ps(out + r * F + 8), a[r][1]));
    }
  }
}
// A: items (n,od,oh,owb,fb), tile does all taps (acc in regs across taps approximated by memory add)
static void stratA(int packed) {
  int items = N * D * H * WB * 4;
#pragma omp parallel for schedule(static)
  for (int it = 0; it < items; ++it) {
    int fb = it % 4, owb = it / 4 % WB, oh = it / 4 / WB % H, od = it / 4 / WB / H % D, n = it / 4 / WB / H / D;
    for (int kd = 0; kd < KD; ++kd) {
      const float *wf = packed ? wp + ((size_t)fb * KD + kd) * C * 16 : w + (size_t)kd * C * F + fb * 16;
      tileTap(&X(n, od + kd, oh, owb * R, 0), wf, packed ? 16 : F, &Y(n, od, oh, owb * R, fb * 16), kd == 0);
    }
  }
}
// B: items (n,od,oh,fb): for kd: for owb
static void stratB(int packed) {
  int items = N * D * H * 4;
#pragma omp parallel for schedule(static)
  for (int it = 0; it < items; ++it) {
    int fb = it % 4, oh = it / 4 % H, od = it / 4 / H % D, n = it / 4 / H / D;
    for (int kd = 0; kd < KD; ++kd) {
      const float *wf = packed ? wp + ((size_t)fb * KD + kd) * C * 16 : w + (size_t)kd * C * F + fb * 16;
      for (int owb = 0; owb < WB; ++owb)
        tileTap(&X(n, od + kd, oh, owb * R, 0), wf, packed ? 16 : F, &Y(n, od, oh, owb * R, fb * 16), kd == 0);
    }
  }
}
// C: items (n,od,oh,fb,owb) full taps per tile
static void stratC(int packed) {
  int items = N * D * H * WB * 4;
#pragma omp parallel for schedule(static)
  for (int it = 0; it < items; ++it) {
    int owb = it % WB, fb = it / WB % 4, oh = it / WB / 4 % H, od = it / WB / 4 / H % D, n = it / WB / 4 / H / D;
    for (int kd = 0; kd < KD; ++kd) {
      const float *wf = packed ? wp + ((size_t)fb * KD + kd) * C * 16 : w + (size_t)kd * C * F + fb * 16;
      tileTap(&X(n, od + kd, oh, owb * R, 0), wf, packed ? 16 : F, &Y(n, od, oh, owb * R, fb * 16), kd == 0);
    }
  }
}
// D: items (n, oh-group?, ...) : (n, oh, od, owb, fb) -- input rows reused across od from L2
static void stratD(int packed) {
  int items = N * D * H * WB * 4;
#pragma omp parallel for schedule(static)
  for (int it = 0; it < items; ++it) {
    int fb = it % 4, owb = it / 4 % WB, od = it / 4 / WB % D, oh = it / 4 / WB / D % H, n = it / 4 / WB / D / H;
    for (int kd = 0; kd < KD; ++kd) {
      const float *wf = packed ? wp + ((size_t)fb * KD + kd) * C * 16 : w + (size_t)kd * C * F + fb * 16;
      tileTap(&X(n, od + kd, oh, owb * R, 0), wf, packed ? 16 : F, &Y(n, od, oh, owb * R, fb * 16), kd == 0);
    }
  }
}
static void stratE(int packed) {
  int items = N * D * H * WB * 4;
#pragma omp parallel for schedule(static)
  for (int it = 0; it < items; ++it) {
    int fb = it % 4;
    for (int kd = 0; kd < KD; ++kd) {
      const float *wf = packed ? wp + ((size_t)fb * KD + kd) * C * 16 : w + (size_t)kd * C * F + fb * 16;
      tileTap(&X(0, kd, 0, 0, 0), wf, packed ? 16 : F, &Y(0, 0, 0, (it&1)*6, fb * 16), kd == 0);
    }
  }
}
// F: items (n,oh,od,fb): for kd: for owb
static void stratF(int packed) {
  int items = N * D * H * 4;
#pragma omp parallel for schedule(static)
  for (int it = 0; it < items; ++it) {
    int fb = it % 4, od = it / 4 % D, oh = it / 4 / D % H, n = it / 4 / D / H;
    for (int kd = 0; kd < KD; ++kd) {
      const float *wf = packed ? wp + ((size_t)fb * KD + kd) * C * 16 : w + (size_t)kd * C * F + fb * 16;
      for (int owb = 0; owb < WB; ++owb)
        tileTap(&X(n, od + kd, oh, owb * R, 0), wf, packed ? 16 : F, &Y(n, od, oh, owb * R, fb * 16), kd == 0);
    }
  }
}
// I: F but the input rows limited to L2-resident set (oh%2, n=0, od%2)
static void stratI(int packed) {
  int items = N * D * H * 4;
#pragma omp parallel for schedule(static)
  for (int it = 0; it < items; ++it) {
    int fb = it % 4, od = it / 4 % D, oh = it / 4 / D % H, n = it / 4 / D / H;
    for (int kd = 0; kd < KD; ++kd) {
      const float *wf = packed ? wp + ((size_t)fb * KD + kd) * C * 16 : w + (size_t)kd * C * F + fb * 16;
      for (int owb = 0; owb < WB; ++owb)
        tileTap(&X(n, (od%2) + kd, oh%2, owb * R, 0), wf, packed ? 16 : F, &Y(n, od, oh, owb * R, fb * 16), kd == 0);
    }
  }
}
// G: items (n,oh,fb,od): for kd: for owb
static void stratG(int packed) {
  int items = N * D * H * 4;
#pragma omp parallel for schedule(static)
  for (int it = 0; it < items; ++it) {
    int od = it % D, fb = it / D % 4, oh = it / D / 4 % H, n = it / D / 4 / H;
    for (int kd = 0; kd < KD; ++kd) {
      const float *wf = packed ? wp + ((size_t)fb * KD + kd) * C * 16 : w + (size_t)kd * C * F + fb * 16;
      for (int owb = 0; owb < WB; ++owb)
        tileTap(&X(n, od + kd, oh, owb * R, 0), wf, packed ? 16 : F, &Y(n, od, oh, owb * R, fb * 16), kd == 0);
    }
  }
}
// H: items (n,oh,fb,od,owb) whole taps per tile
static void stratH(int packed) {
  int items = N * D * H * 4 * WB;
#pragma omp parallel for schedule(static)
  for (int it = 0; it < items; ++it) {
    int owb = it % WB, od = it / WB % D, fb = it / WB / D % 4, oh = it / WB / D / 4 % H, n = it / WB / D / 4 / H;
    for (int kd = 0; kd < KD; ++kd) {
      const float *wf = packed ? wp + ((size_t)fb * KD + kd) * C * 16 : w + (size_t)kd * C * F + fb * 16;
        tileTap(&X(n, od + kd, oh, owb * R, 0), wf, packed ? 16 : F, &Y(n, od, oh, owb * R, fb * 16), kd == 0);
    }
  }
}
static void stratAP(int packed) {
  int items = N * D * H * WB * 4;
#pragma omp parallel for schedule(static)
  for (int it = 0; it < items; ++it) {
    int fb = it % 4, owb = it / 4 % WB, oh = it / 4 / WB % H, od = it / 4 / WB / H % D, n = it / 4 / WB / H / D;
    for (int kd = 0; kd < KD; ++kd) {
      const float *wf = packed ? wp + ((size_t)fb * KD + kd) * C * 16 : w + (size_t)kd * C * F + fb * 16;
      tileTapP(&X(n, od + kd, oh, owb * R, 0), wf, packed ? 16 : F, &Y(n, od, oh, owb * R, fb * 16), kd == 0);
    }
  }
}
static void stratFP(int packed) {
  int items = N * D * H * 4;
#pragma omp parallel for schedule(static)
  for (int it = 0; it < items; ++it) {
    int fb = it % 4, od = it / 4 % D, oh = it / 4 / D % H, n = it / 4 / D / H;
    for (int kd = 0; kd < KD; ++kd) {
      const float *wf = packed ? wp + ((size_t)fb * KD + kd) * C * 16 : w + (size_t)kd * C * F + fb * 16;
      for (int owb = 0; owb < WB; ++owb)
        tileTapP(&X(n, od + kd, oh, owb * R, 0), wf, packed ? 16 : F, &Y(n, od, oh, owb * R, fb * 16), kd == 0);
    }
  }
}
int main(int argc, char **argv) {
  if (argc > 1) PD = atoi(argv[1]);
  size_t xs = (size_t)N * (D + 2) * H * W * C, ws = KD * C * F, ys = (size_t)N * D * H * W * F;
  x = aligned_alloc(64, xs * 4); w = aligned_alloc(64, ws * 4); wp = aligned_alloc(64, ws * 4); y = aligned_alloc(64, ys * 4);
  for (size_t i = 0; i < xs; ++i) x[i] = (float)(i % 17) * 0.1f;
  for (size_t i = 0; i < ws; ++i) w[i] = (float)(i % 13) * 0.01f;
  for (int fb = 0; fb < 4; ++fb) for (int kd = 0; kd < KD; ++kd) for (int c = 0; c < C; ++c) for (int l = 0; l < 16; ++l)
    wp[(((size_t)fb * KD + kd) * C + c) * 16 + l] = w[((size_t)kd * C + c) * F + fb * 16 + l];
  double flops = 2.0 * N * D * H * (WB * R) * F * C * KD;
  void (*fs[])(int) = {stratA, stratAP, stratD, stratF, stratFP};
  const char *names = "AaDFf";
  for (int rep = 0; rep < 3; ++rep)
    for (int s = 0; s < 5; ++s) for (int p = 0; p < 2; ++p) {
      fs[s](p);
      double best = 1e9;
      for (int i = 0; i < 5; ++i) { double t = now(); fs[s](p); t = now() - t; if (t < best) best = t; }
      double sum = 0; for (size_t i = 0; i < ys; i += 977) sum += y[i];
      printf("%c%s %.2f ms %.1f GF/s sum %.3f\n", names[s], p ? "p" : " ", best * 1e3, flops / best * 1e-9, sum);
    }
}
