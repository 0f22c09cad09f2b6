// Errors found in a file a person wrote, with the place to fix them.
#pragma once

#include <string>
#include <vector>

namespace outpace {

struct Diagnostic {
    std::string file;
    int line = 0;    // 1-based; 0 when the error concerns the whole file
    int column = 0;  // 1-based
    std::string message;

    // "FILE:LINE:COL: message", the form editors and compilers use.
    std::string to_string() const;
};

using Diagnostics = std::vector<Diagnostic>;

}  // namespace outpace
