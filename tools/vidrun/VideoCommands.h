// vidrun's commands beyond forward, init and step: the video commands (eval, features, clips,
// make-motion-set), bench, profile, compare and devices.
#pragma once

#include <string>

namespace vidnet {

// argv[1] is the command. usage() reports a command-line mistake (exit 2), fail() anything else (exit 1).
using Usage = int (*)(const std::string &);
using Fail = int (*)(const std::string &);

int evalCommand(int argc, char **argv, Usage usage, Fail fail);
int featuresCommand(int argc, char **argv, Usage usage, Fail fail);
int clipsCommand(int argc, char **argv, Usage usage, Fail fail);
int makeMotionSetCommand(int argc, char **argv, Usage usage, Fail fail);
int benchCommand(int argc, char **argv, Usage usage, Fail fail);
int profileCommand(int argc, char **argv, Usage usage, Fail fail);
int compareCommand(int argc, char **argv, Usage usage, Fail fail);
int devicesCommand(int argc, char **argv, Usage usage, Fail fail);

} // namespace vidnet
