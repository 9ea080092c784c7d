// SPDX-License-Identifier: MIT
#include "store/sqlite_db.h"

#include <atomic>

#include <sqlite3.h>

namespace moa::store {

namespace {
std::atomic<std::int64_t> g_compiled{0};
}

std::int64_t Statement::compiled() { return g_compiled.load(); }

Statement::Statement(sqlite3* db, std::string_view sql) {
    ++g_compiled;
    if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr) != SQLITE_OK) stmt_ = nullptr;
}
Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement& Statement::bind(int i, std::int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
}
Statement& Statement::bind(int i, double v) {
    sqlite3_bind_double(stmt_, i, v);
    return *this;
}
Statement& Statement::bind(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
}
Statement& Statement::bind(int i, const std::optional<double>& v) { return v ? bind(i, *v) : bind_null(i); }
Statement& Statement::bind(int i, const std::optional<std::string>& v) { return v ? bind(i, std::string_view(*v)) : bind_null(i); }
Statement& Statement::bind_null(int i) {
    sqlite3_bind_null(stmt_, i);
    return *this;
}

bool Statement::step() {
    if (!stmt_) return false;
    last_ = sqlite3_step(stmt_);
    return last_ == SQLITE_ROW;
}
bool Statement::failed() const { return !stmt_ || (last_ != 0 && last_ != SQLITE_ROW && last_ != SQLITE_DONE); }
bool Statement::run() {
    if (!stmt_) return false;
    while ((last_ = sqlite3_step(stmt_)) == SQLITE_ROW) {
    }
    return last_ == SQLITE_DONE;
}
void Statement::reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

std::int64_t Statement::i64(int col) const { return sqlite3_column_int64(stmt_, col); }
double Statement::f64(int col) const { return sqlite3_column_double(stmt_, col); }
bool Statement::is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
std::optional<double> Statement::opt_f64(int col) const {
    if (is_null(col)) return std::nullopt;
    return f64(col);
}
std::string Statement::text(int col) const {
    const unsigned char* t = sqlite3_column_text(stmt_, col);
    int n = sqlite3_column_bytes(stmt_, col);
    return t ? std::string(reinterpret_cast<const char*>(t), static_cast<std::size_t>(n)) : std::string();
}
std::optional<std::string> Statement::opt_text(int col) const {
    if (is_null(col)) return std::nullopt;
    return text(col);
}

Database::~Database() { sqlite3_close_v2(db_); }

bool Database::open(const std::string& path, bool create) {
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) return false;
    sqlite3_busy_timeout(db_, 5000);
    return true;
}

bool Database::exec(std::string_view sql) {
    std::string s(sql);
    return sqlite3_exec(db_, s.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK;
}

std::string Database::error() const { return db_ ? sqlite3_errmsg(db_) : "the database is not open"; }
int Database::error_code() const { return db_ ? (sqlite3_extended_errcode(db_) & 0xff) : SQLITE_CANTOPEN; }
bool Database::damaged() const {
    const int c = error_code();
    return c == SQLITE_CORRUPT || c == SQLITE_NOTADB;
}
std::int64_t Database::last_insert_id() const { return sqlite3_last_insert_rowid(db_); }

} // namespace moa::store
