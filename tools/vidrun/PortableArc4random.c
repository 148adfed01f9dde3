/* arc4random for the portable vidrun (VIDNET_PORTABLE): GCC 12's static libstdc++ refers to it
 * (std::random_device), which would make the binary need glibc 2.36; defined here on getrandom(2)
 * (glibc 2.25), the binary runs on glibc 2.34 (RHEL 9, Ubuntu 22.04). */
#include <stdint.h>
#include <sys/random.h>

uint32_t arc4random(void) {
  uint32_t value = 0;
  /* getrandom never returns short for 4 bytes from the urandom pool once it is initialized; retry on EINTR. */
  while (getrandom(&value, sizeof value, 0) != (long)sizeof value) {
  }
  return value;
}
