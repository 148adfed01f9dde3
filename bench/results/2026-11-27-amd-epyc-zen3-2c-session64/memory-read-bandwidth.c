// The read bandwidth the 1x1x1 notes cite: 2 OpenMP threads summing 256 MB, dense and every other 256-byte block (gcc -O2 -mavx2 -fopenmp).
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <omp.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
float sink[16];
int main(){ size_t n=(size_t)64<<20; float*a=aligned_alloc(64,n*4); for(size_t i=0;i<n;i++)a[i]=i;
 for(int step=8; step<=128; step*=16) for(int r=0;r<4;r++){ double t=now();
 #pragma omp parallel num_threads(2)
 { __m256 acc=_mm256_setzero_ps();
  #pragma omp for
  for(size_t i=0;i<n;i+=step) for(int j=0;j<(step==8?8:64);j+=8) acc=_mm256_add_ps(acc,_mm256_load_ps(a+i+j));
  _mm256_storeu_ps(sink+8*omp_get_thread_num(),acc);}
 double dt=now()-t; printf("%s %.1f GB/s of used bytes\n", step==8?"dense":"half 256B blocks", (step==8?n*4:n*2)/dt/1e9);}
}
