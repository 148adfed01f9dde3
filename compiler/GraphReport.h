// Human-readable and JSON summaries of a ModelGraph (`vidc info`, `vidc --emit=graph`).
#pragma once

#include "compiler/ModelGraph.h"

#include <nlohmann/json.hpp>
#include <ostream>

namespace vidnet {

// One row per layer (name, kind, output shape, parameters, MACs) and the totals.
void printInfoTable(const ModelGraph &graph, std::ostream &os);

// {model, spec, input [C,L,H,W], classes, params, macs, state_elements, layers: [...]}.
nlohmann::ordered_json graphToJson(const ModelGraph &graph);

// "33,371,472" and "40.70G": the forms the paper and torchvision use.
std::string withThousands(int64_t n);
std::string giga(int64_t n);

} // namespace vidnet
