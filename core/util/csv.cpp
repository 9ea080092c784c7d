// SPDX-License-Identifier: MIT
#include "util/csv.h"

#include "util/text.h"
#include "util/file_read.h"

namespace moa::csv {

std::optional<std::size_t> Table::column(std::string_view name) const {
    for (std::size_t i = 0; i < header.size(); ++i)
        if (text::trim(header[i]) == name) return i;
    return std::nullopt;
}

Result<Table> parse(std::string_view text, const std::string& file) {
    Table table;
    std::vector<Record> records;
    Record cur;
    std::string field;
    int line = 1;
    cur.line = 1;
    bool in_quotes = false, field_started = false, any = false;
    std::size_t i = 0;
    if (text.substr(0, 3) == "\xEF\xBB\xBF") i = 3; // byte-order mark
    auto end_field = [&] {
        cur.fields.push_back(std::move(field));
        field.clear();
        field_started = false;
    };
    auto end_record = [&] {
        end_field();
        // A line that is wholly empty is not a record.
        if (!(cur.fields.size() == 1 && cur.fields[0].empty())) records.push_back(std::move(cur));
        cur = Record{};
        cur.line = line;
    };
    int quote_line = 0;
    for (; i < text.size(); ++i) {
        char c = text[i];
        any = true;
        if (in_quotes) {
            if (c == '"') {
                if (i + 1 < text.size() && text[i + 1] == '"') {
                    field += '"';
                    ++i;
                } else {
                    in_quotes = false;
                }
            } else {
                if (c == '\n') ++line;
                field += c;
            }
            continue;
        }
        if (c == '"' && !field_started) {
            in_quotes = true;
            field_started = true;
            quote_line = line;
        } else if (c == ',') {
            end_field();
        } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
            continue;
        } else if (c == '\n') {
            ++line;
            end_record();
        } else {
            field += c;
            field_started = true;
        }
    }
    if (in_quotes)
        return Error{file + ":" + std::to_string(quote_line) + ": a quoted field is never closed (a missing \")"};
    if (any && (!field.empty() || !cur.fields.empty())) end_record();
    if (records.empty()) return Error{file + ":1: the file is empty; expected a header row"};
    table.header = std::move(records.front().fields);
    records.erase(records.begin());
    for (auto& r : records) {
        if (r.fields.size() > table.header.size())
            return Error{file + ":" + std::to_string(r.line) + ": " + std::to_string(r.fields.size()) +
                         " fields, but the header has " + std::to_string(table.header.size())};
        r.fields.resize(table.header.size());
    }
    table.rows = std::move(records);
    return table;
}

Result<Table> read_file(const std::string& path) {
    std::string text;
    if (auto r = files::read_regular_file(path, files::kMaxDataBytes)) text = std::move(*r);
    else return Error{r.error()};
    return parse(text, path);
}

std::string escape(std::string_view f) {
    if (f.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(f);
    std::string out = "\"";
    for (char c : f) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

} // namespace moa::csv
