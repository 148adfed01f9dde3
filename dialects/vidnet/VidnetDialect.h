// The `vidnet` MLIR dialect: declaration (generated from VidnetDialect.td).
#pragma once

#include "mlir/IR/Dialect.h"

#include "dialects/vidnet/VidnetOpsDialect.h.inc"
