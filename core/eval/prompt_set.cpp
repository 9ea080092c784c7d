// SPDX-License-Identifier: MIT
#include "eval/prompt_set.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <optional>
#include <random>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "config/json_lines.h"
#include "eval/alpaca_files.h"
#include "util/csv.h"
#include "util/duplicate_keys.h"
#include "util/resources.h"
#include "util/text.h"
#include "util/file_read.h"
#include "util/json_guard.h"

namespace moa::eval {

using nlohmann::json;

std::optional<PromptFormat> prompt_format_from_string(const std::string& s) {
    if (s.empty() || s == "auto") return PromptFormat::Auto;
    if (s == "alpaca_eval") return PromptFormat::AlpacaEval;
    if (s == "mt_bench") return PromptFormat::MtBench;
    if (s == "flask") return PromptFormat::Flask;
    if (s == "jsonl") return PromptFormat::Jsonl;
    if (s == "csv") return PromptFormat::Csv;
    return std::nullopt;
}

namespace {

std::string at(const std::string& path, int line) { return path + ":" + std::to_string(line); }

// A JSON value as text for an id ("81" for 81). Ids come from the user's files: never dump()ed
// (an id nested thousands deep would overflow the stack).
std::string id_text(const json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number_integer()) return json_guard::brief(v);
    return "(" + json_guard::brief(v, 40) + ")"; // matches no prompt's id
}

// One prompt-set line, or one instruction of any format, is at most this: a prompt, not a data
// dump (a 40 MB line took 708 MB to load and went into every call and output).
constexpr std::size_t kMaxPromptLineBytes = 1u << 20;

struct JsonlLine {
    int line;
    json value;
};

// The first raw control character inside a JSON string of `line` (JSON wants it escaped, e.g.
// \u0000): its 1-based column and the character, or nothing.
std::optional<std::pair<std::size_t, unsigned char>> raw_control_in_string(std::string_view line) {
    bool in_string = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const auto c = static_cast<unsigned char>(line[i]);
        if (!in_string) {
            in_string = c == '"';
            continue;
        }
        if (c == '\\') ++i;
        else if (c == '"') in_string = false;
        else if (c < 0x20) return std::pair{i + 1, c};
    }
    return std::nullopt;
}

Result<std::vector<JsonlLine>> read_jsonl(const std::string& path, const std::string& text) {
    std::vector<JsonlLine> out;
    std::istringstream in(text);
    std::string l;
    int n = 0;
    while (std::getline(in, l)) {
        ++n;
        if (text::trim(l).empty()) continue;
        if (l.size() > kMaxPromptLineBytes)
            return Error{at(path, n) + ": the line is " + files::size_text(l.size()) + ", more than the " +
                         files::size_text(kMaxPromptLineBytes) + " a prompt-set line may hold; it is not read"};
        if (auto deep = json_guard::check(l, {static_cast<std::size_t>(config::kMaxJsonDepth), 0}))
            return Error{at(path, n) + ": the line " + *deep + "; it is not read"};
        // A key given twice: which one counts depends on the parser, so the line is refused.
        json_guard::DuplicateKeys dup;
        json j = json::parse(l, std::ref(dup), false);
        if (j.is_discarded()) {
            if (auto c = raw_control_in_string(l)) {
                char hex[8];
                std::snprintf(hex, sizeof hex, "%04X", c->second);
                return Error{at(path, n) + ": a control character (U+" + hex + ") in a string at column " +
                             std::to_string(c->first) + "; JSON strings write it escaped (\\u" + hex + ")"};
            }
            return Error{at(path, n) + ": not a JSON object (each line of a JSONL file must be one)"};
        }
        if (!j.is_object()) return Error{at(path, n) + ": expected a JSON object, got " + std::string(j.type_name())};
        if (dup.found)
            return Error{at(path, n) + ": the key " + *dup.found + " appears twice in the line; give each key once"};
        out.push_back({n, std::move(j)});
    }
    return out;
}

Result<std::string> str_field(const std::string& path, int line, const json& o, const std::string& field, bool required) {
    auto it = o.find(field);
    if (it == o.end() || it->is_null()) {
        if (required) return Error{at(path, line) + ": field \"" + field + "\" is missing"};
        return std::string();
    }
    if (it->is_string()) return it->get<std::string>();
    if (it->is_number()) return json_guard::brief(*it);
    return Error{at(path, line) + ": field \"" + field + "\": expected a string, got " + std::string(it->type_name())};
}

Result<std::vector<std::string>> str_list(const std::string& path, int line, const json& o, const std::string& field) {
    std::vector<std::string> out;
    auto it = o.find(field);
    if (it == o.end() || it->is_null()) return out;
    if (it->is_string()) return std::vector<std::string>{it->get<std::string>()};
    if (!it->is_array()) return Error{at(path, line) + ": field \"" + field + "\": expected a list of strings"};
    for (std::size_t i = 0; i < it->size(); ++i) {
        if (!(*it)[i].is_string())
            return Error{at(path, line) + ": field \"" + field + "\"[" + std::to_string(i) + "]: expected a string, got " +
                         std::string((*it)[i].type_name())};
        out.push_back((*it)[i].get<std::string>());
    }
    return out;
}

Result<PromptSet> from_jsonl(const std::string& path, const std::vector<JsonlLine>& lines, const ColumnMapping& m) {
    PromptSet s;
    s.format = "jsonl";
    for (const auto& [line, o] : lines) {
        PromptItem it;
        auto ins = str_field(path, line, o, m.instruction, true);
        if (!ins) return Error{ins.error()};
        if (text::trim(*ins).empty()) return Error{at(path, line) + ": field \"" + m.instruction + "\" is empty"};
        auto id = str_field(path, line, o, m.id, false);
        auto cat = str_field(path, line, o, m.category, false);
        auto ref = str_field(path, line, o, m.reference, false);
        for (auto* r : {&id, &cat, &ref})
            if (!*r) return Error{r->error()};
        it.turns = {*ins};
        it.id = id->empty() ? std::to_string(s.items.size() + 1) : *id;
        it.category = *cat;
        if (!ref->empty()) it.references = {*ref};
        it.source = at(path, line);
        s.items.push_back(std::move(it));
    }
    return s;
}

Result<PromptSet> from_mt_bench(const std::string& path, const std::vector<JsonlLine>& lines) {
    PromptSet s;
    s.format = "mt_bench";
    for (const auto& [line, o] : lines) {
        PromptItem it;
        auto qid = o.find("question_id");
        if (qid == o.end() || !(qid->is_number_integer() || qid->is_string()))
            return Error{at(path, line) + ": field \"question_id\" is missing or not a number"};
        auto turns = str_list(path, line, o, "turns");
        if (!turns) return Error{turns.error()};
        if (turns->empty()) return Error{at(path, line) + ": field \"turns\" is missing or empty"};
        auto cat = str_field(path, line, o, "category", false);
        if (!cat) return Error{cat.error()};
        auto refs = str_list(path, line, o, "reference");
        if (!refs) return Error{refs.error()};
        it.id = id_text(*qid);
        it.category = *cat;
        it.turns = std::move(*turns);
        it.references = std::move(*refs);
        it.source = at(path, line);
        s.items.push_back(std::move(it));
    }
    return s;
}

Result<PromptSet> from_flask(const std::string& path, const std::vector<JsonlLine>& lines) {
    PromptSet s;
    s.format = "flask";
    for (const auto& [line, o] : lines) {
        PromptItem it;
        auto idx = o.find("idx");
        if (idx == o.end() || !(idx->is_number_integer() || idx->is_string()))
            return Error{at(path, line) + ": field \"idx\" is missing or not a number"};
        auto ins = str_field(path, line, o, "instruction", true);
        auto ans = str_field(path, line, o, "answer", false);
        auto task = str_field(path, line, o, "task", false);
        for (auto* r : {&ins, &ans, &task})
            if (!*r) return Error{r->error()};
        auto skills = str_list(path, line, o, "skill");
        if (!skills) return Error{skills.error()};
        if (skills->empty()) return Error{at(path, line) + ": field \"skill\": FLASK instances name the skills to grade"};
        it.id = id_text(*idx);
        it.category = *task;
        it.turns = {*ins};
        if (!ans->empty()) it.references = {*ans};
        it.skills = std::move(*skills);
        it.source = at(path, line);
        s.items.push_back(std::move(it));
    }
    return s;
}

Result<PromptSet> from_csv(const std::string& path, const std::string& text, const ColumnMapping& m) {
    auto t = csv::parse(text, path);
    if (!t) return Error{t.error()};
    auto ins = t->column(m.instruction);
    if (!ins) return Error{path + ":1: the header has no column \"" + m.instruction + "\" (map another column to the instruction)"};
    auto id = t->column(m.id), cat = t->column(m.category), ref = t->column(m.reference);
    PromptSet s;
    s.format = "csv";
    for (const auto& r : t->rows) {
        PromptItem it;
        if (text::trim(r.fields[*ins]).empty())
            return Error{at(path, r.line) + ": column \"" + m.instruction + "\" is empty"};
        it.turns = {r.fields[*ins]};
        it.id = id && !r.fields[*id].empty() ? r.fields[*id] : std::to_string(s.items.size() + 1);
        if (cat) it.category = r.fields[*cat];
        if (ref && !r.fields[*ref].empty()) it.references = {r.fields[*ref]};
        it.source = at(path, r.line);
        s.items.push_back(std::move(it));
    }
    return s;
}

Result<PromptSet> from_alpaca_eval(const std::string& path, const std::string& text) {
    auto outs = parse_model_outputs(text, path);
    if (!outs) return Error{outs.error()};
    PromptSet s;
    s.format = "alpaca_eval";
    for (std::size_t i = 0; i < outs->size(); ++i) {
        auto& o = (*outs)[i];
        PromptItem it;
        it.id = std::to_string(i);
        it.category = o.dataset;
        it.turns = {o.instruction};
        it.output = o.output;
        it.generator = o.generator;
        it.source = path + ": /" + std::to_string(i);
        s.items.push_back(std::move(it));
    }
    return s;
}

bool ends_with(const std::string& s, const std::string& e) {
    return s.size() >= e.size() && text::to_lower(s.substr(s.size() - e.size())) == e;
}

} // namespace

Result<PromptSet> load_prompt_set(const std::string& path, PromptFormat format, const ColumnMapping& mapping) {
    // Capped like --prompt-file: a prompt set is instructions, read whole and kept in memory.
    auto text = files::read_regular_file(path, files::kMaxPromptBytes);
    if (!text) return Error{text.error()};
    return parse_prompt_set(*text, path, format, mapping);
}

Result<PromptSet> parse_prompt_set(const std::string& text, const std::string& path, PromptFormat format, const ColumnMapping& mapping) {
    if (format == PromptFormat::Auto) {
        std::string start = text::trim(std::string_view(text).substr(0, 4096));
        if (ends_with(path, ".csv")) format = PromptFormat::Csv;
        else if (!start.empty() && start.front() == '[') format = PromptFormat::AlpacaEval;
        else if (start.find("\"question_id\"") != std::string::npos && start.find("\"turns\"") != std::string::npos)
            format = PromptFormat::MtBench;
        else if (start.find("\"idx\"") != std::string::npos && start.find("\"skill\"") != std::string::npos)
            format = PromptFormat::Flask;
        else format = PromptFormat::Jsonl;
    }
    Result<PromptSet> r = Error{""};
    if (format == PromptFormat::AlpacaEval) r = from_alpaca_eval(path, text);
    else if (format == PromptFormat::Csv) r = from_csv(path, text, mapping);
    else {
        auto lines = read_jsonl(path, text);
        if (!lines) return Error{lines.error()};
        if (format == PromptFormat::MtBench) r = from_mt_bench(path, *lines);
        else if (format == PromptFormat::Flask) r = from_flask(path, *lines);
        else r = from_jsonl(path, *lines, mapping);
    }
    if (!r) return r;
    if (r->items.empty()) return Error{path + ": the file holds no prompts"};
    for (const auto& it : r->items)
        for (const auto& t : it.turns)
            if (t.size() > kMaxPromptLineBytes)
                return Error{it.source + ": the instruction is " + files::size_text(t.size()) + ", more than the " +
                             files::size_text(kMaxPromptLineBytes) + " a prompt may hold"};
    std::set<std::string> ids;
    for (const auto& it : r->items)
        if (!ids.insert(it.id).second) return Error{it.source + ": the id \"" + it.id + "\" appears twice"};
    r->name = std::filesystem::path(path).stem().string();
    return r;
}

Result<PromptSet> load_starter_set() {
    auto r = load_prompt_set(resources::dir() + "/prompts/starter.jsonl", PromptFormat::Jsonl);
    if (r) {
        r->name = "starter";
        r->format = "starter";
    }
    return r;
}

Result<int> attach_mt_bench_references(PromptSet& set, const std::string& path) {
    auto text = files::read_regular_file(path, files::kMaxDataBytes);
    if (!text) return Error{text.error()};
    auto lines = read_jsonl(path, *text);
    if (!lines) return Error{lines.error()};
    int n = 0;
    for (const auto& [line, o] : *lines) {
        auto qid = o.find("question_id");
        if (qid == o.end()) return Error{at(path, line) + ": field \"question_id\" is missing"};
        auto ch = o.find("choices");
        if (ch == o.end() || !ch->is_array() || ch->empty() || !(*ch)[0].is_object())
            return Error{at(path, line) + ": field \"choices\": expected a list with one object holding \"turns\""};
        auto turns = str_list(path, line, (*ch)[0], "turns");
        if (!turns) return Error{turns.error()};
        for (auto& it : set.items)
            if (it.id == id_text(*qid)) {
                it.references = *turns;
                ++n;
            }
    }
    return n;
}

PromptSet sample(const PromptSet& set, std::size_t n, std::uint64_t seed) {
    if (n == 0 || n >= set.items.size()) return set;
    std::vector<std::size_t> idx(set.items.size());
    for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
    std::mt19937_64 rng(seed);
    // Fisher-Yates with our own draw so the sample is the same on every standard library.
    for (std::size_t i = idx.size() - 1; i > 0; --i) std::swap(idx[i], idx[rng() % (i + 1)]);
    idx.resize(n);
    std::sort(idx.begin(), idx.end());
    PromptSet out = set;
    out.items.clear();
    for (auto i : idx) out.items.push_back(set.items[i]);
    return out;
}

} // namespace moa::eval
