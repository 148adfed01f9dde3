// `vidrun train BUNDLE --config C.json --data X.npy --labels Y.npy [...]`.
#pragma once

#include <string>

namespace vidnet {

// argv[1] is "train". usage() reports a command-line mistake (exit 2), fail() anything else (exit 1).
int trainCommand(int argc, char **argv, int (*usage)(const std::string &), int (*fail)(const std::string &));

} // namespace vidnet
