// SPDX-License-Identifier: MIT
#pragma once
// A thin RAII layer over the SQLite C API: a connection and prepared statements with typed
// binding, so the store's SQL stays readable and no handle leaks on an error path.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace moa::store {

class Statement {
public:
    Statement(sqlite3* db, std::string_view sql);
    ~Statement();
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    bool ok() const { return stmt_ != nullptr; }
    // How many statements this process has compiled: compiling one per row of a large set took
    // minutes (the tests count them).
    static std::int64_t compiled();
    Statement& bind(int i, std::int64_t v);
    Statement& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
    Statement& bind(int i, double v);
    Statement& bind(int i, std::string_view v);
    Statement& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
    Statement& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
    Statement& bind(int i, const std::optional<double>& v);
    Statement& bind(int i, const std::optional<std::string>& v);
    Statement& bind_null(int i);

    // Steps once: true when a row is available. False at the end of the rows and on an error:
    // tell them apart with failed() (a damaged page must not read as "no more rows").
    bool step();
    // The statement could not be prepared, or its last step or run() ended in an error.
    bool failed() const;
    // SQLite's result code of the last step (SQLITE_ROW, SQLITE_DONE, SQLITE_CORRUPT, ...).
    int status() const { return last_; }
    // Runs to completion; false on an error (see Database::error()).
    bool run();
    void reset();

    std::int64_t i64(int col) const;
    double f64(int col) const;
    std::optional<double> opt_f64(int col) const;
    std::string text(int col) const;
    std::optional<std::string> opt_text(int col) const;
    bool is_null(int col) const;

private:
    sqlite3_stmt* stmt_ = nullptr;
    int last_ = 0;
};

class Database {
public:
    Database() = default;
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    // Opens (creating when asked) the database file; false with error() set on failure.
    bool open(const std::string& path, bool create = true);
    bool exec(std::string_view sql);
    std::string error() const;
    // SQLite's primary result code of the last failed call on this connection.
    int error_code() const;
    // The file is damaged or is no database at all (SQLITE_CORRUPT, SQLITE_NOTADB).
    bool damaged() const;
    sqlite3* handle() const { return db_; }
    std::int64_t last_insert_id() const;

private:
    sqlite3* db_ = nullptr;
};

} // namespace moa::store
