// microbench: mc3_18 layer4 1x3x3 512->512 filter gradient at 2x8x7x7, AVX2, 2 threads.
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#define N 2
#define D 8
#define H 7
#define W 7
#define C 512
#define CP 516
#define F 512
#define KH 3
#define KW 3
#define CT 6
static float *x, *dy, *dw;
static int variant, chunkRows, order;
static double now() { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static inline float *X(int n, int d, int h, int w) { return x + ((((size_t)n * D + d) * (H + 2) + h) * (W + 2) + w) * CP; }
static inline float *DY(int n, int d, int h, int w) { return dy + ((((size_t)n * D + d) * H + h) * W + w) * F; }
static inline float *DW(int kh, int kw, int c) { return dw + (((size_t)kh * KW + kw) * CP + c) * F; }
enum { CB = CP / CT, FB = F / 16, ITEMS = KH * KW * CB * FB, ROWS = N * D * H };
// one item over rows [r0, r1): 6x16 tile, 7 positions per row, all real columns computed
static void item(int it, int r0, int r1, int first) {
  int fb, cb, kw, kh;
  if (order == 0) { fb = it % FB; it /= FB; cb = it % CB; it /= CB; }
  else { cb = it % CB; it /= CB; fb = it % FB; it /= FB; }
  kw = it % KW; kh = it / KW;
  __m256 acc[CT][2];
  for (int c = 0; c < CT; ++c) acc[c][0] = acc[c][1] = _mm256_setzero_ps();
  for (int r = r0; r < r1; ++r) {
    int oh = r % H, od = (r / H) % D, n = r / (H * D);
    int ih = oh + kh;
    if (ih < 1 || ih > H) continue;
    const float *xr = X(n, od, ih, kw) + cb * CT;
    const float *dr = DY(n, od, oh, 0) + fb * 16;
    for (int ow = 0; ow < W; ++ow) {
      __m256 b0 = _mm256_loadu_ps(dr + ow * F), b1 = _mm256_loadu_ps(dr + ow * F + 8);
      for (int c = 0; c < CT; ++c) {
        __m256 a = _mm256_broadcast_ss(xr + ow * CP + c);
        acc[c][0] = _mm256_fmadd_ps(a, b0, acc[c][0]);
        acc[c][1] = _mm256_fmadd_ps(a, b1, acc[c][1]);
      }
    }
  }
  float *o = DW(kh, kw, cb * CT) + fb * 16;
  for (int c = 0; c < CT; ++c) {
    if (first) { _mm256_storeu_ps(o + c * F, acc[c][0]); _mm256_storeu_ps(o + c * F + 8, acc[c][1]); }
    else {
      _mm256_storeu_ps(o + c * F, _mm256_add_ps(_mm256_loadu_ps(o + c * F), acc[c][0]));
      _mm256_storeu_ps(o + c * F + 8, _mm256_add_ps(_mm256_loadu_ps(o + c * F + 8), acc[c][1]));
    }
  }
}

static void itemTaps(int it) {
  int fb, cb;
  if (order == 0) { fb = it % FB; cb = it / FB; } else { cb = it % CB; fb = it / CB; }
  for (int r0 = 0; r0 < ROWS; r0 += chunkRows)
    for (int kh = 0; kh < KH; ++kh)
      for (int kw = 0; kw < KW; ++kw) {
        __m256 acc[CT][2];
        for (int c = 0; c < CT; ++c) acc[c][0] = acc[c][1] = _mm256_setzero_ps();
        for (int r = r0; r < r0 + chunkRows; ++r) {
          int oh = r % H, od = (r / H) % D, n = r / (H * D);
          int ih = oh + kh;
          if (ih < 1 || ih > H) continue;
          const float *xr = X(n, od, ih, kw) + cb * CT;
          const float *dr = DY(n, od, oh, 0) + fb * 16;
          for (int ow = 0; ow < W; ++ow) {
            __m256 b0 = _mm256_loadu_ps(dr + ow * F), b1 = _mm256_loadu_ps(dr + ow * F + 8);
            for (int c = 0; c < CT; ++c) {
              __m256 a = _mm256_broadcast_ss(xr + ow * CP + c);
              acc[c][0] = _mm256_fmadd_ps(a, b0, acc[c][0]);
              acc[c][1] = _mm256_fmadd_ps(a, b1, acc[c][1]);
            }
          }
        }
        float *o = DW(kh, kw, cb * CT) + fb * 16;
        for (int c = 0; c < CT; ++c) {
          if (r0 == 0) { _mm256_storeu_ps(o + c * F, acc[c][0]); _mm256_storeu_ps(o + c * F + 8, acc[c][1]); }
          else {
            _mm256_storeu_ps(o + c * F, _mm256_add_ps(_mm256_loadu_ps(o + c * F), acc[c][0]));
            _mm256_storeu_ps(o + c * F + 8, _mm256_add_ps(_mm256_loadu_ps(o + c * F + 8), acc[c][1]));
          }
        }
      }
}

static float *xb, *dyb; // blocked copies: xb[cb][n,d,h+2,w+2][CT], dyb[fb][n,d,h,w][16]
#define XP ((size_t)N * D * (H + 2) * (W + 2))
#define DP ((size_t)N * D * H * W)
static void block(void) {
  for (int cb = 0; cb < CB; ++cb) for (size_t p = 0; p < XP; ++p) memcpy(xb + (cb * XP + p) * CT, x + p * CP + cb * CT, CT * 4);
  for (int fb = 0; fb < FB; ++fb) for (size_t p = 0; p < DP; ++p) memcpy(dyb + (fb * DP + p) * 16, dy + p * F + fb * 16, 64);
}
static void itemBlocked(int it) {
  int fb, cb;
  if (order == 0) { fb = it % FB; cb = it / FB; } else { cb = it % CB; fb = it / CB; }
  for (int r0 = 0; r0 < ROWS; r0 += chunkRows)
    for (int kh = 0; kh < KH; ++kh)
      for (int kw = 0; kw < KW; ++kw) {
        __m256 acc[CT][2];
        for (int c = 0; c < CT; ++c) acc[c][0] = acc[c][1] = _mm256_setzero_ps();
        for (int r = r0; r < r0 + chunkRows; ++r) {
          int oh = r % H, od = (r / H) % D, n = r / (H * D);
          int ih = oh + kh;
          if (ih < 1 || ih > H) continue;
          const float *xr = xb + (cb * XP + (((size_t)n * D + od) * (H + 2) + ih) * (W + 2) + kw) * CT;
          const float *dr = dyb + (fb * DP + (((size_t)n * D + od) * H + oh) * W) * 16;
          for (int ow = 0; ow < W; ++ow) {
            __m256 b0 = _mm256_loadu_ps(dr + ow * 16), b1 = _mm256_loadu_ps(dr + ow * 16 + 8);
            for (int c = 0; c < CT; ++c) {
              __m256 a = _mm256_broadcast_ss(xr + ow * CT + c);
              acc[c][0] = _mm256_fmadd_ps(a, b0, acc[c][0]);
              acc[c][1] = _mm256_fmadd_ps(a, b1, acc[c][1]);
            }
          }
        }
        float *o = DW(kh, kw, cb * CT) + fb * 16;
        for (int c = 0; c < CT; ++c) {
          if (r0 == 0) { _mm256_storeu_ps(o + c * F, acc[c][0]); _mm256_storeu_ps(o + c * F + 8, acc[c][1]); }
          else {
            _mm256_storeu_ps(o + c * F, _mm256_add_ps(_mm256_loadu_ps(o + c * F), acc[c][0]));
            _mm256_storeu_ps(o + c * F + 8, _mm256_add_ps(_mm256_loadu_ps(o + c * F + 8), acc[c][1]));
          }
        }
      }
}

static void itemB0(int it, int r0, int r1, int first) {
  int fb, cb, kw, kh;
  if (order == 0) { fb = it % FB; it /= FB; cb = it % CB; it /= CB; }
  else { cb = it % CB; it /= CB; fb = it % FB; it /= FB; }
  kw = it % KW; kh = it / KW;
  __m256 acc[CT][2];
  for (int c = 0; c < CT; ++c) acc[c][0] = acc[c][1] = _mm256_setzero_ps();
  for (int r = r0; r < r1; ++r) {
    int oh = r % H, od = (r / H) % D, n = r / (H * D);
    int ih = oh + kh;
    if (ih < 1 || ih > H) continue;
    const float *xr = xb + (cb * XP + (((size_t)n * D + od) * (H + 2) + ih) * (W + 2) + kw) * CT;
    const float *dr = dyb + (fb * DP + (((size_t)n * D + od) * H + oh) * W) * 16;
    for (int ow = 0; ow < W; ++ow) {
      __m256 b0 = _mm256_loadu_ps(dr + ow * 16), b1 = _mm256_loadu_ps(dr + ow * 16 + 8);
      for (int c = 0; c < CT; ++c) {
        __m256 a = _mm256_broadcast_ss(xr + ow * CT + c);
        acc[c][0] = _mm256_fmadd_ps(a, b0, acc[c][0]);
        acc[c][1] = _mm256_fmadd_ps(a, b1, acc[c][1]);
      }
    }
  }
  float *o = DW(kh, kw, cb * CT) + fb * 16;
  for (int c = 0; c < CT; ++c) {
    if (first) { _mm256_storeu_ps(o + c * F, acc[c][0]); _mm256_storeu_ps(o + c * F + 8, acc[c][1]); }
    else {
      _mm256_storeu_ps(o + c * F, _mm256_add_ps(_mm256_loadu_ps(o + c * F), acc[c][0]));
      _mm256_storeu_ps(o + c * F + 8, _mm256_add_ps(_mm256_loadu_ps(o + c * F + 8), acc[c][1]));
    }
  }
}

static void itemMixed(int it, int r0, int r1, int first, int bx, int bd) {
  int fb, cb, kw, kh;
  fb = it % FB; it /= FB; cb = it % CB; it /= CB;
  kw = it % KW; kh = it / KW;
  __m256 acc[CT][2];
  for (int c = 0; c < CT; ++c) acc[c][0] = acc[c][1] = _mm256_setzero_ps();
  for (int r = r0; r < r1; ++r) {
    int oh = r % H, od = (r / H) % D, n = r / (H * D);
    int ih = oh + kh;
    if (ih < 1 || ih > H) continue;
    const float *xr = bx ? xb + (cb * XP + (((size_t)n * D + od) * (H + 2) + ih) * (W + 2) + kw) * CT : X(n, od, ih, kw) + cb * CT;
    const int xs = bx ? CT : CP;
    const float *dr = bd ? dyb + (fb * DP + (((size_t)n * D + od) * H + oh) * W) * 16 : DY(n, od, oh, 0) + fb * 16;
    const int ds = bd ? 16 : F;
    for (int ow = 0; ow < W; ++ow) {
      __m256 b0 = _mm256_loadu_ps(dr + ow * ds), b1 = _mm256_loadu_ps(dr + ow * ds + 8);
      for (int c = 0; c < CT; ++c) {
        __m256 a = _mm256_broadcast_ss(xr + ow * xs + c);
        acc[c][0] = _mm256_fmadd_ps(a, b0, acc[c][0]);
        acc[c][1] = _mm256_fmadd_ps(a, b1, acc[c][1]);
      }
    }
  }
  float *o = DW(kh, kw, cb * CT) + fb * 16;
  for (int c = 0; c < CT; ++c) {
    if (first) { _mm256_storeu_ps(o + c * F, acc[c][0]); _mm256_storeu_ps(o + c * F + 8, acc[c][1]); }
    else {
      _mm256_storeu_ps(o + c * F, _mm256_add_ps(_mm256_loadu_ps(o + c * F), acc[c][0]));
      _mm256_storeu_ps(o + c * F + 8, _mm256_add_ps(_mm256_loadu_ps(o + c * F + 8), acc[c][1]));
    }
  }
}
static pthread_barrier_t bar;
static void *worker(void *arg) {
  int t = (int)(size_t)arg;
  if (variant == 2) { for (int it = t * CB * FB / 2; it < (t + 1) * CB * FB / 2; ++it) itemBlocked(it); return 0; }
  if (variant == 1) { for (int it = t * CB * FB / 2; it < (t + 1) * CB * FB / 2; ++it) itemTaps(it); return 0; }
  for (int r0 = 0; r0 < ROWS; r0 += chunkRows) {
    for (int it = t * ITEMS / 2; it < (t + 1) * ITEMS / 2; ++it) if (variant == 4 || variant == 5) itemMixed(it, r0, r0 + chunkRows, r0 == 0, variant == 5, variant == 4); else if (variant == 3) itemB0(it, r0, r0 + chunkRows, r0 == 0); else item(it, r0, r0 + chunkRows, r0 == 0);
    pthread_barrier_wait(&bar);
  }
  return 0;
}
int main(int argc, char **argv) {
  chunkRows = atoi(argv[1]); order = atoi(argv[2]); variant = atoi(argv[3]);
  x = aligned_alloc(64, sizeof(float) * N * D * (H + 2) * (W + 2) * CP);
  dy = aligned_alloc(64, sizeof(float) * N * D * H * W * F);
  dw = aligned_alloc(64, sizeof(float) * KH * KW * CP * F);
  for (size_t i = 0; i < (size_t)N * D * (H + 2) * (W + 2) * CP; ++i) x[i] = (i % 7) * 0.1f;
  for (size_t i = 0; i < (size_t)N * D * H * W * F; ++i) dy[i] = (i % 5) * 0.1f;
  pthread_barrier_init(&bar, 0, 2);
  xb = aligned_alloc(64, sizeof(float) * XP * CP); dyb = aligned_alloc(64, sizeof(float) * DP * F);
  { double t0 = now(); block(); double t1 = now(); block(); printf("block copies %.2f ms (1 thread, memcpy)\n", (now() - t1) * 1e3); }
  double counted = 2.0 * N * D * C * F * (19.0 * 19.0); // real taps: (6+7+6)^2 per output frame
  double best = 1e9;
  for (int rep = 0; rep < 15; ++rep) {
    double t0 = now();
    pthread_t th; pthread_create(&th, 0, worker, (void *)1); worker(0); pthread_join(th, 0);
    double t = now() - t0; if (t < best) best = t;
  }
  printf("variant %d chunkRows %d order %d: %.2f ms, counted %.1f GFLOP/s (%.0f%% of 214)\n", variant, chunkRows, order, best * 1e3, counted / best * 1e-9, counted / best * 1e-9 / 2.14);
}
