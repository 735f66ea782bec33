// `token sddl`: a security descriptor given as SDDL text, as hex of its
// binary form or in a file, printed as canonical SDDL, binary (hex and
// base64) and one line per ACE, for people debugging descriptors. Needs no
// mount: everything is done by core/sddl and core/security_descriptor.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "core/ascii.h"
#include "core/conditional_expression.h"
#include "core/resource_attribute.h"
#include "core/sddl.h"
#include "core/security_descriptor.h"
#include "core/well_known_sids.h"

namespace tokenfs::cli {
namespace {

struct SddlFlags {
  std::optional<std::string> text;
  std::optional<std::string> binary;
  std::optional<std::string> file;
  std::optional<std::string> domain_sid;

  void Register(CLI::App& app) {
    app.add_option("TEXT", text, "SDDL text");
    app.add_option("--binary", binary,
                   "the binary security descriptor in hex (spaces ignored)");
    app.add_option("--file", file,
                   "a file holding SDDL text or a binary descriptor; - for "
                   "standard input");
    app.add_option("--domain-sid", domain_sid,
                   "the domain SID (S-1-5-21-a-b-c) that LA, LG, DA, DU... "
                   "stand for");
  }
};

std::string Base64(const std::vector<uint8_t>& bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const uint32_t chunk =
        (uint32_t{bytes[i]} << 16) |
        (i + 1 < bytes.size() ? uint32_t{bytes[i + 1]} << 8 : 0) |
        (i + 2 < bytes.size() ? uint32_t{bytes[i + 2]} : 0);
    out += kAlphabet[(chunk >> 18) & 63];
    out += kAlphabet[(chunk >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(chunk >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? kAlphabet[chunk & 63] : '=';
  }
  return out;
}

std::optional<std::vector<uint8_t>> ParseHex(std::string_view text) {
  std::vector<uint8_t> out;
  int high = -1;
  for (char c : text) {
    if (IsAsciiSpace(c)) continue;
    int value = -1;
    if (c >= '0' && c <= '9') value = c - '0';
    if (c >= 'a' && c <= 'f') value = c - 'a' + 10;
    if (c >= 'A' && c <= 'F') value = c - 'A' + 10;
    if (value < 0) return std::nullopt;
    if (high < 0) {
      high = value;
    } else {
      out.push_back(static_cast<uint8_t>(high * 16 + value));
      high = -1;
    }
  }
  if (high >= 0) return std::nullopt;
  return out;
}

std::string SidText(const Sid& sid, const Sid* domain) {
  std::string out = sid.ToString();
  if (auto alias = SddlAliasForSid(sid, domain)) {
    out += " (" + std::string(*alias) + ")";
  }
  return out;
}

// One ACE: its SDDL, then its fields spelled out.
std::string DescribeAce(const Ace& ace, const Sid* domain) {
  std::string out = "(" + FormatSddlAce(ace, domain) + ")\n";
  out += "    type 0x" + FormatHexBytes(std::vector<uint8_t>{
                               static_cast<uint8_t>(ace.type)}) +
         ", flags 0x" + FormatHexBytes(std::vector<uint8_t>{ace.flags});
  if (IsModeledAceType(ace.type)) {
    out += ", mask " + FormatHex(ace.mask.bits());
    const std::string names = FormatSddlRights(ace.mask);
    if (!names.empty() && names.rfind("0x", 0) != 0) out += " (" + names + ")";
    out += ", trustee " + SidText(ace.sid, domain);
  }
  out += '\n';
  if (HasConditionalSignature(ace.application_data)) {
    auto expr = DecodeConditionalExpression(ace.application_data);
    out += "    condition " +
           (expr ? FormatConditionalExpression(*expr, domain)
                 : "undecodable: " + expr.error().message) +
           "\n";
  } else if (ace.type == AceType::kSystemResourceAttribute) {
    auto claim = DecodeResourceAttribute(ace.application_data);
    out += "    attribute " +
           (claim ? FormatSddlResourceAttribute(*claim, domain)
                  : "undecodable: " + claim.error().message) +
           "\n";
  } else if (!ace.application_data.empty()) {
    out += "    data " + FormatHexBytes(ace.application_data) + "\n";
  }
  return out;
}

std::string DescribeAcl(std::string_view name, bool present,
                        const std::optional<Acl>& acl, const Sid* domain) {
  std::string out(name);
  if (!present) return out + "  absent\n";
  if (!acl) return out + "  NULL (grants everything)\n";
  out += "  revision " + std::to_string(acl->revision) + ", " +
         std::to_string(acl->aces.size()) +
         (acl->aces.size() == 1 ? " ACE\n" : " ACEs\n");
  for (size_t i = 0; i < acl->aces.size(); ++i) {
    out += "  " + std::to_string(i) + " " + DescribeAce(acl->aces[i], domain);
  }
  return out;
}

CliResult<int> RunSddl(Context& context, const SddlFlags& flags) {
  if (auto status = RejectTargetFlags(context.options, "sddl"); !status) {
    return tl::unexpected(status.error());
  }
  const int given = (flags.text ? 1 : 0) + (flags.binary ? 1 : 0) +
                    (flags.file ? 1 : 0);
  if (given != 1) {
    return Fail(exit_status::kUsage,
                "sddl: give exactly one of TEXT, --binary HEX or --file F");
  }
  std::optional<Sid> domain;
  if (flags.domain_sid) {
    auto sid = ParseDomainSid(*flags.domain_sid);
    if (!sid) {
      return InvalidInput("sddl: --domain-sid " + sid.error().message);
    }
    domain = *sid;
  }
  const Sid* domain_ptr = domain ? &*domain : nullptr;

  std::optional<std::string> text = flags.text;
  std::optional<std::vector<uint8_t>> binary;
  if (flags.binary) {
    binary = ParseHex(*flags.binary);
    if (!binary) {
      return InvalidInput("sddl: --binary wants hex digits (an even number)");
    }
  }
  if (flags.file) {
    auto input = ReadInput(*flags.file, "descriptor");
    if (!input) return tl::unexpected(input.error());
    // A binary self-relative descriptor starts with revision 1; SDDL text
    // never does.
    if (!input->empty() && (*input)[0] == '\x01') {
      binary.emplace(input->begin(), input->end());
    } else {
      text = std::string(TrimAsciiSpace(*input));
    }
  }

  SecurityDescriptor sd;
  if (binary) {
    auto decoded = SecurityDescriptor::FromBinary(*binary);
    if (!decoded) {
      return InvalidInput("sddl: invalid binary descriptor: " +
                          decoded.error().message);
    }
    sd = std::move(*decoded);
  } else {
    auto parsed = ParseSddl(*text, domain_ptr);
    if (!parsed) {
      return InvalidInput("sddl: " + parsed.error().message);
    }
    sd = std::move(*parsed);
  }
  auto bytes = sd.ToBinary();
  if (!bytes) return InvalidInput("sddl: " + bytes.error().message);

  std::string out = "sddl    " + FormatSddl(sd, domain_ptr) + "\n";
  out += "hex     " + FormatHexBytes(*bytes) + "\n";
  out += "base64  " + Base64(*bytes) + "\n";
  out += "control " + FormatHex(sd.control) + "\n";
  out += "owner   " + (sd.owner ? SidText(*sd.owner, domain_ptr) : "absent") +
         "\n";
  out += "group   " + (sd.group ? SidText(*sd.group, domain_ptr) : "absent") +
         "\n";
  out += DescribeAcl("dacl", sd.dacl_present(), sd.dacl, domain_ptr);
  out += DescribeAcl("sacl", sd.sacl_present(), sd.sacl, domain_ptr);
  if (::write(STDOUT_FILENO, out.data(), out.size()) !=
      static_cast<ssize_t>(out.size())) {
    return Fail(exit_status::kFailure,
                std::string("writing the output: ") + std::strerror(errno));
  }
  return exit_status::kSuccess;
}

}  // namespace

Runner AddSddl(CLI::App& app) { return Bind(app, RunSddl); }

}  // namespace tokenfs::cli
