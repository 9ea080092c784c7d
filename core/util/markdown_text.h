// SPDX-License-Identifier: MIT
#pragma once
// Text from others (model answers, provider errors, prompts, names) written into a Markdown
// export. A renderer that shows the file passes raw HTML through and follows links: an answer
// holding <script>, <img onerror=...> or [x](javascript:...) would run in whoever opens it.
// The text stays Markdown (lists, emphasis, code read as they were written); only what could
// act is neutralised.
#include <string>
#include <string_view>

namespace moa::text {

// `s` safe to put in a Markdown document as a block of its own:
// - "<" outside code becomes "&lt;" (no raw HTML, no HTML block, no <autolink>); inside inline
//   code on one line (not on a line holding "|", which GFM tables split even inside code) and
//   inside fenced blocks opened at the very start of a line it is kept, as renderers show code
//   as it is (the closing fence is written as the opening one; an indented fence is text);
// - a link or image whose target is not http(s), mailto, "#", or a plain relative path (so
//   javascript:, data:, vbscript:, and targets spelled with entities or escapes) loses its
//   brackets' meaning: "](" becomes "]\(" and the target shows as text;
// - "]:" becomes "]\:": no link reference definition (whose target is not checked);
// - "![" becomes "\![": no image, as a viewer fetches one when the file is opened (a remote
//   image tells its server who read the export and when); what was an image reads as a link;
// - a fence still open at the end is closed, so the document after it is not swallowed.
std::string markdown_safe(std::string_view s);

// The same for one line (a heading, a name): line breaks become spaces.
std::string markdown_inline(std::string_view s);

} // namespace moa::text
