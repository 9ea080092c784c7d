// SPDX-License-Identifier: MIT
#include "config/json_lines.h"
#include "util/text.h"

namespace moa::config {

namespace {

struct Scanner {
    std::string_view s;
    std::size_t i = 0;
    int line = 1;
    std::unordered_map<std::string, int>& out;
    std::vector<std::pair<std::string, int>>& dups;
    int depth = 0;
    static constexpr int kMaxDepth = 512;

    void ws() {
        while (i < s.size()) {
            char c = s[i];
            if (c == '\n') ++line;
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r') ++i;
            else break;
        }
    }
    std::string string_token() {
        std::string v;
        ++i; // opening quote
        while (i < s.size() && s[i] != '"') {
            if (s[i] == '\\' && i + 1 < s.size()) {
                char e = s[i + 1];
                if (e == 'u') {
                    // Kept as written: keys with \u escapes are rare; the line is what matters, and
                    // two different escapes must not look like one key.
                    v.append(s.substr(i, std::min<std::size_t>(6, s.size() - i)));
                    i += 6;
                    continue;
                }
                v += e == 'n' ? '\n' : e == 't' ? '\t' : e;
                i += 2;
                continue;
            }
            v += s[i++];
        }
        ++i;
        return v;
    }
    // Consumes one value without mapping what is inside it: past the depth limit, and without
    // recursion, so that no nesting can exhaust the stack or leave the value unread.
    void skip_value() {
        ws();
        int open = 0;
        while (i < s.size()) {
            const char c = s[i];
            if (c == '"') {
                string_token();
                if (open == 0) return;
            } else if (c == '{' || c == '[') {
                ++open;
                ++i;
            } else if (c == '}' || c == ']') {
                if (open == 0) return; // the end of the enclosing container, not ours
                ++i;
                if (--open == 0) return;
            } else if (c == ',' && open == 0) {
                return; // the end of a scalar
            } else {
                if (c == '\n') ++line;
                ++i;
            }
        }
    }
    void value(const std::string& ptr) {
        if (depth >= kMaxDepth) {
            // Pathological nesting: the lines below this depth stay coarse (the parent's line).
            skip_value();
            return;
        }
        ++depth;
        map_value(ptr);
        --depth;
    }
    void map_value(const std::string& ptr) {
        ws();
        if (i >= s.size()) return;
        out.emplace(ptr, line);
        char c = s[i];
        if (c == '{') {
            ++i;
            ws();
            std::set<std::string> keys;
            while (i < s.size() && s[i] != '}') {
                const std::size_t before = i;
                if (s[i] != '"') return;
                const int key_line = line;
                std::string key = string_token();
                if (!keys.insert(key).second) dups.emplace_back(ptr + "/" + text::pointer_token(key), key_line);
                ws();
                if (i < s.size() && s[i] == ':') ++i;
                value(ptr + "/" + text::pointer_token(key));
                ws();
                if (i < s.size() && s[i] == ',') {
                    ++i;
                    ws();
                }
                if (i == before) i = s.size(); // no progress: text this scanner does not understand
            }
            ++i;
        } else if (c == '[') {
            ++i;
            ws();
            int idx = 0;
            while (i < s.size() && s[i] != ']') {
                const std::size_t before = i;
                value(ptr + "/" + std::to_string(idx++));
                ws();
                if (i < s.size() && s[i] == ',') {
                    ++i;
                    ws();
                }
                if (i == before) i = s.size(); // no progress: text this scanner does not understand
            }
            ++i;
        } else if (c == '"') {
            string_token();
        } else {
            while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != '\n' &&
                   s[i] != ' ' && s[i] != '\r' && s[i] != '\t')
                ++i;
        }
    }
};

} // namespace

JsonLineMap::JsonLineMap(std::string_view text) {
    Scanner sc{text, 0, 1, lines_, duplicates_};
    sc.value("");
}

int JsonLineMap::line_of(const std::string& pointer) const {
    std::string p = pointer;
    while (true) {
        if (auto it = lines_.find(p); it != lines_.end()) return it->second;
        if (p.empty()) return 1;
        auto slash = p.rfind('/');
        p = p.substr(0, slash == std::string::npos ? 0 : slash);
    }
}

std::size_t too_deep_at(std::string_view text, int max_depth) {
    int depth = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            if (c == '\\') ++i;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max_depth) return i;
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    return std::string_view::npos;
}

nlohmann::json parse_with_position(const std::string& text, const std::string& path, std::string& error, const std::string& hint) {
    if (auto at = too_deep_at(text); at != std::string_view::npos) {
        int line = 0, col = 0;
        line_column(text, at, line, col);
        error = path + ":" + std::to_string(line) + ":" + std::to_string(col) + ": values nested more than " +
                std::to_string(kMaxJsonDepth) + " levels deep" + hint;
        return nlohmann::json(nlohmann::json::value_t::discarded);
    }
    nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_discarded()) return j;
    // nlohmann reports the byte offset of a syntax error only in its exception.
    try {
        nlohmann::json again = nlohmann::json::parse(text);
        (void)again;
    } catch (const nlohmann::json::parse_error& e) {
        int line = 0, col = 0;
        line_column(text, e.byte > 0 ? e.byte - 1 : 0, line, col);
        error = path + ":" + std::to_string(line) + ":" + std::to_string(col) + ": not valid JSON" + hint;
    } catch (const nlohmann::json::exception& e) {
        int line = 0, col = 0;
        std::string m = json_value_error(text, e.what(), line, col);
        error = path + ":" + std::to_string(line) + ":" + std::to_string(col) + ": " + m + hint;
    }
    return j;
}

std::string json_value_error(const std::string& text, const std::string& what, int& line, int& column) {
    line = 1;
    column = 1;
    std::string m = what;
    if (auto b = m.find("] "); b != std::string::npos) m = m.substr(b + 2);
    // "number overflow parsing '7E7777777'": point at the quoted value.
    if (auto q = m.find('\''); q != std::string::npos) {
        if (auto q2 = m.find('\'', q + 1); q2 != std::string::npos && q2 > q + 1)
            if (auto at = text.find(m.substr(q + 1, q2 - q - 1)); at != std::string::npos) line_column(text, at, line, column);
    }
    if (m.rfind("number overflow", 0) == 0) return "a number too large to read: " + m;
    return "a value that cannot be read: " + m;
}

void line_column(std::string_view text, std::size_t offset, int& line, int& column) {
    line = 1;
    column = 1;
    for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
        if (text[i] == '\n') {
            ++line;
            column = 1;
        } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
            ++column;
        }
    }
}

} // namespace moa::config
