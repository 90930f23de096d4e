// Built against amva::analysis alone: the pipeline sits above analysis, so its header must not
// be found (the Layering.UpwardIncludeFailsToBuild test expects this file not to compile).
#include "amva/pipeline/study.hpp"
