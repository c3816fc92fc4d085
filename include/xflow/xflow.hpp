// xflow: an eager-first tensor runtime. Include this header for the whole public API.
#pragma once
#include "xflow/dtype.hpp"
#include "xflow/error.hpp"
#include "xflow/grad.hpp"
#include "xflow/name_scope.hpp"
#include "xflow/nn.hpp"
#include "xflow/optim.hpp"
#include "xflow/summary.hpp"
#include "xflow/variable.hpp"
#include "xflow/ops.hpp"
#include "xflow/shape.hpp"
#include "xflow/tensor.hpp"
