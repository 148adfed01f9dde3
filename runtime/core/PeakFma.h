// The machine's fp32 FMA peak, measured: what the generated code's GFLOP/s is a share of.
#pragma once

namespace vidnet::rt {

struct FmaPeak {
  int vectorBits = 0; // 512 (AVX-512), 256 (AVX2 + FMA); 0: not measured on this CPU
  double gflops = 0;  // best of `rounds`, all `threads` spinning at once
};

// Independent vector FMA chains on `threads` threads, about `seconds` per round, best of
// `rounds`. Uses the widest FMA this CPU has, whatever the runtime was compiled for.
FmaPeak measureFmaPeak(unsigned threads, double seconds = 0.2, int rounds = 3);

} // namespace vidnet::rt
