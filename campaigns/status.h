// One error convention for the store, the ledger and the engine: a Status (empty when it worked;
// whether the store could not write, and whether because the disk is full), and Result<T> for a
// value that may not have come. Nothing here depends on the store.
#pragma once

#include <string>
#include <utility>

namespace outpace {

struct Status {
    std::string error;      // empty when it worked
    bool io = false;        // the store could not write (else: the request itself was refused)
    bool no_space = false;  // the disk is full: writing again may work once space returns
    bool ok() const { return error.empty(); }
};

template <class T>
struct Result {
    T value{};
    Status status;
    bool ok() const { return status.ok(); }
    static Result failed(Status st) { return Result{T{}, std::move(st)}; }
};

}  // namespace outpace
