// SPDX-License-Identifier: MIT
#include "eval/alpaca_files.h"

#include <charconv>
#include <cmath>
#include <map>

#include <nlohmann/json.hpp>

#include "config/json_lines.h"
#include "util/csv.h"
#include "util/text.h"
#include "util/file_read.h"
#include "util/json_guard.h"

namespace moa::eval {

using nlohmann::json;

namespace {

// Parses a JSON array of objects; `where(i, field)` gives `file:line: /i/field` lazily, since
// mapping lines costs a pass over the text and is only needed for messages.
struct JsonArrayFile {
    std::string path, text;
    json doc;
    std::unique_ptr<config::JsonLineMap> lines;

    Result<bool> open_text(std::string t, const std::string& p, const char* what) {
        path = p;
        text = std::move(t);
        std::string error;
        doc = config::parse_with_position(text, path, error, " (" + std::string(what) + " must be a JSON array of objects)");
        if (doc.is_discarded()) return Error{error};
        if (!doc.is_array()) return Error{path + ":1: expected " + std::string(what) + ": a JSON array of objects"};
        return true;
    }
    int line_of(std::size_t i, const std::string& field) {
        if (!lines) lines = std::make_unique<config::JsonLineMap>(text);
        return lines->line_of("/" + std::to_string(i) + (field.empty() ? "" : "/" + field));
    }
    std::string where(std::size_t i, const std::string& field) {
        return path + ":" + std::to_string(line_of(i, field)) + ": /" + std::to_string(i) + (field.empty() ? "" : "/" + field);
    }
};

// A required string field; error names where.
Result<std::string> string_field(JsonArrayFile& f, std::size_t i, const char* field, bool required = true) {
    const json& o = f.doc[i];
    auto it = o.find(field);
    if (it == o.end() || it->is_null()) {
        if (!required) return std::string();
        return Error{f.where(i, "") + ": the field \"" + field + "\" is missing"};
    }
    if (!it->is_string()) return Error{f.where(i, field) + ": expected a string, got " + std::string(it->type_name())};
    return it->get<std::string>();
}

std::optional<double> number_of(std::string_view s) {
    std::string t = text::trim(s);
    if (t.empty()) return std::nullopt;
    double v = 0;
    auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec != std::errc() || p != t.data() + t.size()) return std::nullopt;
    return v;
}

} // namespace

std::optional<double> read_preference(const json& v, std::string& why) {
    std::optional<double> p;
    if (v.is_number()) p = v.get<double>();
    else if (v.is_string()) p = number_of(v.get<std::string>());
    else if (v.is_null()) {
        why = "no preference (null)";
        return std::nullopt;
    }
    if (!p || !std::isfinite(*p)) {
        why = "the preference is not a number: " + text::quote_start(json_guard::brief(v, 200), 40);
        return std::nullopt;
    }
    if (*p < 1.0 || *p > 2.0) {
        why = "the preference " + json_guard::brief(v) + " is outside [1, 2]";
        return std::nullopt;
    }
    return p;
}

std::vector<Judged> AnnotationFile::judged() const {
    std::vector<Judged> out;
    out.reserve(rows.size());
    for (const auto& r : rows) out.push_back({r.preference, text::code_points(r.output_1), text::code_points(r.output_2)});
    return out;
}

std::string AnnotationFile::generator() const {
    std::map<std::string, int> n;
    for (const auto& r : rows) ++n[r.generator_2];
    std::string best;
    int most = -1;
    for (const auto& [g, c] : n)
        if (c > most) best = g, most = c;
    return best;
}

Result<AnnotationFile> load_annotations(const std::string& path) {
    auto text = files::read_regular_file(path, files::kMaxDataBytes);
    if (!text) return Error{text.error()};
    return parse_annotations(*text, path);
}

Result<AnnotationFile> parse_annotations(const std::string& input, const std::string& path) {
    JsonArrayFile f;
    if (auto r = f.open_text(input, path, "AlpacaEval annotations"); !r) return Error{r.error()};
    AnnotationFile out;
    for (std::size_t i = 0; i < f.doc.size(); ++i) {
        if (!f.doc[i].is_object()) return Error{f.where(i, "") + ": expected an object with instruction, output_1, output_2, preference"};
        Annotation a;
        auto ins = string_field(f, i, "instruction");
        auto o1 = string_field(f, i, "output_1");
        auto o2 = string_field(f, i, "output_2");
        for (auto* r : {&ins, &o1, &o2})
            if (!*r) return Error{r->error()};
        a.instruction = std::move(*ins);
        a.output_1 = std::move(*o1);
        a.output_2 = std::move(*o2);
        auto g1 = string_field(f, i, "generator_1", false);
        auto g2 = string_field(f, i, "generator_2", false);
        if (g1) a.generator_1 = *g1;
        if (g2) a.generator_2 = *g2;
        const json& o = f.doc[i];
        if (auto rc = o.find("raw_completion"); rc != o.end() && !rc->is_null())
            a.raw_completion = rc->is_string() ? rc->get<std::string>() : rc->dump();
        auto p = o.find("preference");
        std::string why;
        if (p == o.end()) why = "no preference field";
        else a.preference = read_preference(*p, why);
        if (!a.preference) out.warnings.push_back(f.where(i, "preference") + ": " + why + "; the row is excluded");
        out.rows.push_back(std::move(a));
    }
    if (!f.text.empty() && out.rows.empty()) return Error{path + ":1: the file holds no annotations"};
    // Row lines cost a pass over the text; they are there when a warning already paid for it.
    if (f.lines)
        for (std::size_t i = 0; i < out.rows.size(); ++i) out.rows[i].line = f.line_of(i, "");
    return out;
}

Result<std::vector<ModelOutput>> load_model_outputs(const std::string& path) {
    auto text = files::read_regular_file(path, files::kMaxDataBytes);
    if (!text) return Error{text.error()};
    return parse_model_outputs(*text, path);
}

Result<std::vector<ModelOutput>> parse_model_outputs(const std::string& input, const std::string& path) {
    JsonArrayFile f;
    if (auto r = f.open_text(input, path, "AlpacaEval model outputs"); !r) return Error{r.error()};
    std::vector<ModelOutput> out;
    for (std::size_t i = 0; i < f.doc.size(); ++i) {
        if (!f.doc[i].is_object()) return Error{f.where(i, "") + ": expected an object with instruction and output"};
        ModelOutput m;
        auto ins = string_field(f, i, "instruction");
        auto o = string_field(f, i, "output");
        if (!ins) return Error{ins.error()};
        if (!o) return Error{o.error()};
        m.instruction = std::move(*ins);
        m.output = std::move(*o);
        if (auto g = string_field(f, i, "generator", false)) m.generator = *g;
        else return Error{g.error()};
        if (auto d = string_field(f, i, "dataset", false)) m.dataset = *d;
        else return Error{d.error()};
        out.push_back(std::move(m));
    }
    return out;
}

namespace {
Result<double> csv_number(const csv::Table& t, const csv::Record& r, const char* column, const std::string& path) {
    auto c = t.column(column);
    auto v = number_of(r.fields[*c]);
    if (!v) return Error{path + ":" + std::to_string(r.line) + ": column \"" + column + "\": \"" +
                         text::quote_start(r.fields[*c], 40) + "\" is not a number"};
    return *v;
}
Result<bool> need_columns(const csv::Table& t, std::initializer_list<const char*> cols, const std::string& path) {
    for (const char* c : cols)
        if (!t.column(c)) return Error{path + ":1: the header has no column \"" + std::string(c) + "\""};
    return true;
}
} // namespace

Result<std::vector<double>> load_difficulty(const std::string& path) {
    auto t = csv::read_file(path);
    if (!t) return Error{t.error()};
    if (auto r = need_columns(*t, {"index", "difficulty"}, path); !r) return Error{r.error()};
    std::vector<double> out;
    std::vector<bool> seen;
    for (const auto& row : t->rows) {
        auto idx = csv_number(*t, row, "index", path);
        auto d = csv_number(*t, row, "difficulty", path);
        if (!idx) return Error{idx.error()};
        if (!d) return Error{d.error()};
        if (*idx < 0 || *idx != std::floor(*idx) || *idx > 10'000'000)
            return Error{path + ":" + std::to_string(row.line) + ": column \"index\": expected a row number, got " + row.fields[*t->column("index")]};
        auto k = static_cast<std::size_t>(*idx);
        if (k >= out.size()) out.resize(k + 1, NAN), seen.resize(k + 1, false);
        if (seen[k]) return Error{path + ":" + std::to_string(row.line) + ": index " + std::to_string(k) + " appears twice"};
        seen[k] = true;
        out[k] = *d;
    }
    for (std::size_t k = 0; k < out.size(); ++k)
        if (!seen[k]) return Error{path + ": no difficulty for index " + std::to_string(k) + " (the indices must run from 0 without gaps)"};
    return out;
}

Result<std::vector<GamedRow>> load_baseline_variants(const std::string& path) {
    auto t = csv::read_file(path);
    if (!t) return Error{t.error()};
    if (auto r = need_columns(*t, {"preference", "std_delta_len", "instruction_difficulty"}, path); !r) return Error{r.error()};
    std::vector<GamedRow> out;
    for (const auto& row : t->rows) {
        GamedRow g;
        auto p = csv_number(*t, row, "preference", path);
        auto s = csv_number(*t, row, "std_delta_len", path);
        auto d = csv_number(*t, row, "instruction_difficulty", path);
        for (auto* r : {&p, &s, &d})
            if (!*r) return Error{r->error()};
        if (*p < 0 || *p > 1)
            return Error{path + ":" + std::to_string(row.line) + ": column \"preference\": " + std::to_string(*p) + " is outside [0, 1]"};
        g.preference01 = *p;
        g.std_delta_len = *s;
        g.difficulty = *d;
        out.push_back(g);
    }
    return out;
}

} // namespace moa::eval
