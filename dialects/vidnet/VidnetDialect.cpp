// Registration of the `vidnet` dialect and its operations.
#include "dialects/vidnet/VidnetOps.h"

#include "dialects/vidnet/VidnetOpsDialect.cpp.inc"

void vidnet::VidnetDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/vidnet/VidnetOps.cpp.inc"
      >();
}
