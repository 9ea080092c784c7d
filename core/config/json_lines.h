// SPDX-License-Identifier: MIT
#pragma once
// nlohmann/json keeps no source positions, so validation messages would lose their line
// numbers. This maps every JSON pointer of an already well-formed document to the line where
// its value starts.
#include <string>
#include <string_view>
#include <unordered_map>

#include <nlohmann/json.hpp>
#include <set>
#include <vector>

namespace moa::config {

class JsonLineMap {
public:
    explicit JsonLineMap(std::string_view text);
    // The line (1-based) of `pointer`, or of its nearest existing parent; 1 when unknown.
    int line_of(const std::string& pointer) const;
    // Keys given twice in one object, as (pointer, line of the second): parsers disagree on which
    // one counts (nlohmann keeps the last), so a file that says two things is refused.
    const std::vector<std::pair<std::string, int>>& duplicates() const { return duplicates_; }

private:
    std::unordered_map<std::string, int> lines_;
    std::vector<std::pair<std::string, int>> duplicates_;
};

// Line and column (1-based) of a byte offset.
void line_column(std::string_view text, std::size_t offset, int& line, int& column);

// The message for a value nlohmann cannot hold (an exception other than parse_error, e.g. a
// number overflow), with the line and column of the value it quotes when it can be found.
std::string json_value_error(const std::string& text, const std::string& what, int& line, int& column);

// The deepest nesting a document we read may have. Configurations, experiments and data files
// are a few levels deep; a limit keeps a hostile file from costing a DOM node per bracket.
inline constexpr int kMaxJsonDepth = 512;

// The byte offset of the first `[` or `{` that opens a level deeper than `max_depth`, or npos.
// One pass without recursion, before any DOM is built.
std::size_t too_deep_at(std::string_view text, int max_depth = kMaxJsonDepth);

// Parses `text`; on malformed JSON, `error` becomes "<path>:<line>:<column>: not valid JSON"
// (plus `hint`) and the result is discarded; nesting deeper than kMaxJsonDepth is refused the same way.
nlohmann::json parse_with_position(const std::string& text, const std::string& path, std::string& error,
                                   const std::string& hint = {});

} // namespace moa::config
