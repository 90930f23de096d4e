// Built against amva::analysis alone: the areas below it (eval, quality, store, io...) are seen.
#include "amva/analysis/analyze.hpp"
#include "amva/eval/edc.hpp"
#include "amva/io/npy.hpp"
#include "amva/quality/scores.hpp"
