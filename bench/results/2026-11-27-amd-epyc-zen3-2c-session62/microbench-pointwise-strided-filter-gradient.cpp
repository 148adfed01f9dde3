// Hand kernel: 1x1x1 64->128 /2x2x2 filter gradient at 2x4x28x28, the compiled scheme's shape.
#include <immintrin.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>
#include <algorithm>
constexpr int N = 2, OD = 4, OH = 28, OW = 28, C = 64, F = 128, CT = 6, CB = 11, FB = 8, PARTS = 16;
constexpr int ROWS = N * OD * OH; // 224
int pfMode = 0;
static inline void pf(const char *a) {
  if (pfMode == 1) _mm_prefetch(a, _MM_HINT_T0); else if (pfMode == 2) _mm_prefetch(a, _MM_HINT_T1); else if (pfMode == 3) _mm_prefetch(a, _MM_HINT_T2);
}
int dyPitch = 128, dwPitch = 128, packX = 0;
float *x, *dy, *parts;
static float *xat(int n, int d, int h, int w) { return x + ((((size_t)n * 8 + d) * 56 + h) * 56 + w) * C; }
void runPart(int part) {
  float *dw = parts + (size_t)part * 66 * dwPitch;
  alignas(64) float xs[OW * 66];
  for (int r = part * (ROWS / PARTS), nth = 0; r < (part + 1) * (ROWS / PARTS); ++r, ++nth) {
    int rr = getenv("SAME") ? 0 : r; int n = rr / (OD * OH), od = (rr / OH) % OD, oh = rr % OH;
    const float *dyRow = dy + (size_t)rr * OW * dyPitch;
    const float *xRow = xat(n, 2 * od, 2 * oh, 0);
    int xStride = 2 * C, xc = 0;
    if (packX) { // compact copy of the chunk's x, channels padded to 66
      for (int w = 0; w < OW; ++w) { memcpy(xs + w * 66, xRow + w * 2 * C, C * 4); xs[w*66+64]=xs[w*66+65]=0; }
      xRow = xs; xStride = 66;
    }
    for (int cb = 0; cb < CB; ++cb)
      for (int fb = 0; fb < FB; ++fb) {
        __m256 acc[6][2];
        for (auto &a : acc) a[0] = a[1] = _mm256_setzero_ps();
        int cn = cb == CB - 1 ? 4 : 6;
        const float *xp = xRow + cb * CT, *dp = dyRow + fb * 16;
        if (cn == 6) {
          for (int p = 0; p < OW; ++p) {
            __m256 b0 = _mm256_loadu_ps(dp + p * dyPitch), b1 = _mm256_loadu_ps(dp + p * dyPitch + 8);
            for (int i = 0; i < 6; ++i) {
              __m256 a = _mm256_broadcast_ss(xp + p * xStride + i);
              acc[i][0] = _mm256_fmadd_ps(a, b0, acc[i][0]);
              acc[i][1] = _mm256_fmadd_ps(a, b1, acc[i][1]);
            }
          }
        } else {
          for (int p = 0; p < OW; ++p) {
            __m256 b0 = _mm256_loadu_ps(dp + p * dyPitch), b1 = _mm256_loadu_ps(dp + p * dyPitch + 8);
            for (int i = 0; i < 4; ++i) {
              __m256 a = _mm256_broadcast_ss(xp + p * xStride + i);
              acc[i][0] = _mm256_fmadd_ps(a, b0, acc[i][0]);
              acc[i][1] = _mm256_fmadd_ps(a, b1, acc[i][1]);
            }
          }
        }
        if (pfMode && r + 1 < (part + 1) * (ROWS / PARTS)) {
          int r2 = r + 1, n2 = r2 / (OD * OH), od2 = (r2 / OH) % OD, oh2 = r2 % OH;
          if (fb == 0) { const char *xn = (const char *)(xat(n2, 2 * od2, 2 * oh2, 0) + cb * CT);
            for (int p = 0; p < OW; ++p) pf(xn + p * 2 * C * 4); }
          if (cb == 0) { const char *dn = (const char *)(dy + (size_t)r2 * OW * dyPitch + fb * 16);
            for (int p = 0; p < OW; ++p) pf(dn + p * dyPitch * 4); }
        }
        float *t = dw + (size_t)cb * CT * dwPitch + fb * 16;
        for (int i = 0; i < 6; ++i) {
          if (nth) { acc[i][0] = _mm256_add_ps(acc[i][0], _mm256_loadu_ps(t + i * dwPitch));
                     acc[i][1] = _mm256_add_ps(acc[i][1], _mm256_loadu_ps(t + i * dwPitch + 8)); }
          _mm256_storeu_ps(t + i * dwPitch, acc[i][0]); _mm256_storeu_ps(t + i * dwPitch + 8, acc[i][1]);
        }
      }
  }
}
int main(int argc, char **argv) {
  dyPitch = atoi(argv[1]); dwPitch = atoi(argv[2]); packX = atoi(argv[3]); pfMode = atoi(argv[4]);
  x = (float *)aligned_alloc(64, (size_t)N * 8 * 56 * 56 * C * 4);
  dy = (float *)aligned_alloc(64, (size_t)ROWS * OW * dyPitch * 4);
  parts = (float *)aligned_alloc(64, (size_t)PARTS * 66 * dwPitch * 4);
  for (size_t i = 0; i < (size_t)N * 8 * 56 * 56 * C; ++i) x[i] = (i % 7) * 0.1f;
  for (size_t i = 0; i < (size_t)ROWS * OW * dyPitch; ++i) dy[i] = (i % 5) * 0.1f;
  std::vector<char> flush(64 << 20, 1);
  std::vector<double> ts;
  for (int it = 0; it < 40; ++it) {
    if (getenv("FLUSH")) for (size_t i = 0; i < flush.size(); i += 64) flush[i]++;
    auto t0 = std::chrono::steady_clock::now();
    if (getenv("ONE")) { for (int p = 0; p < PARTS; ++p) runPart(p); } else {
    std::thread th([] { for (int p = 1; p < PARTS; p += 2) runPart(p); });
    for (int p = 0; p < PARTS; p += 2) runPart(p);
    th.join(); }
    ts.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ts.begin(), ts.end());
  double flops = 2.0 * C * F * ROWS * OW;
  printf("dyPitch %d dwPitch %d packX %d: median %.3f ms min %.3f (%.1f GF/s at median)\n", dyPitch, dwPitch, packX,
         ts[20] * 1e3, ts[0] * 1e3, flops / ts[20] / 1e9);
}
