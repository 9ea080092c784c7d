// SPDX-License-Identifier: MIT
#pragma once
// RFC 4180 CSV: quoted fields may hold commas, quotes ("") and newlines. Every record keeps the
// line it starts on so that importers can name it in their messages.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace moa::csv {

struct Record {
    int line = 0; // 1-based line where the record starts
    std::vector<std::string> fields;
};

struct Table {
    std::vector<std::string> header;
    std::vector<Record> rows;
    // Index of a header column (exact match after trimming), or nullopt.
    std::optional<std::size_t> column(std::string_view name) const;
};

// Parses `text`; the first record is the header. Errors name `file` and the line (an unclosed
// quote, a row with more fields than the header).
Result<Table> parse(std::string_view text, const std::string& file);
Result<Table> read_file(const std::string& path);

// One field written for CSV: quoted when it holds a comma, a quote or a line break.
std::string escape(std::string_view field);

} // namespace moa::csv
