// SPDX-License-Identifier: MIT
#pragma once
// A small expected-like type: errors are values where they are expected (C++23's
// std::expected is not in g++ 12's C++20 mode).
#include <string>
#include <utility>
#include <variant>

namespace moa {

struct Error {
    std::string message;
};

template <class T> class Result {
public:
    Result(T value) : v_(std::move(value)) {}
    Result(Error e) : v_(std::move(e)) {}
    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }
    T& value() { return std::get<0>(v_); }
    const T& value() const { return std::get<0>(v_); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() { return value(); }
    const std::string& error() const { return std::get<1>(v_).message; }

private:
    std::variant<T, Error> v_;
};

} // namespace moa
