// ParseSipMessage on top of sofia-sip's message parser.
//
// Threading: the only process-wide state used is the extended message class
// (the SIP header table plus sofia's extension headers such as
// P-Asserted-Identity), built once on first use under C++ static-init
// locking and read-only afterwards.  It is private to this file: the default
// class (sip_default_mclass) is left untouched so a host that uses sofia-sip
// in the same process (the reference proxy does) sees no change.  Every call
// parses into its own msg_t and su_home, so calls on different threads do not
// share memory; the contract nevertheless only promises one caller at a time.
#include "sip/parse/sip_message.h"

#include <strings.h>

#include <charconv>
#include <memory>

#include <sofia-sip/msg.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_extra.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_protos.h>
#include <sofia-sip/url.h>

#include "sip/parse/field_text.h"
#include "sip/parse/sdp_codecs.h"

namespace callvault {
namespace {

struct MsgDestroy {
  void operator()(msg_t* m) const { msg_destroy(m); }
};

msg_mclass_t const* ParserClass() {
  static msg_mclass_t const* const mclass = sip_extend_mclass(nullptr);
  return mclass;
}

bool Fail(std::string* error, const char* what) {
  if (error) *error = std::string("SIP message: ") + what;
  return false;
}

std::string Cap(const char* s) { return s ? CapField(s, kMaxFieldBytes) : std::string(); }

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Splits a header value at top-level commas (not inside "quoted strings" or
// <angle brackets>), the list syntax of name-addr headers.
std::vector<std::string_view> SplitNameAddrList(std::string_view v) {
  std::vector<std::string_view> items;
  bool quoted = false, escaped = false;
  int angle = 0;
  size_t start = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    const char c = v[i];
    if (escaped) {
      escaped = false;
    } else if (quoted) {
      if (c == '\\') escaped = true;
      if (c == '"') quoted = false;
    } else if (c == '"') {
      quoted = true;
    } else if (c == '<') {
      ++angle;
    } else if (c == '>') {
      if (angle > 0) --angle;
    } else if (c == ',' && angle == 0) {
      items.push_back(Trim(v.substr(start, i - start)));
      start = i + 1;
    }
  }
  items.push_back(Trim(v.substr(start)));
  return items;
}

// User part of the URI in one Diversion entry: the <URI> of a name-addr, or
// the addr-spec up to its first header parameter.  Diversion is not among
// sofia-sip's known headers, so it arrives as an unknown header's raw value.
std::string DiversionUser(su_home_t* home, std::string_view entry) {
  std::string_view uri = entry;
  const size_t lt = entry.find('<');
  if (lt != std::string_view::npos) {
    const size_t gt = entry.find('>', lt);
    if (gt == std::string_view::npos) return {};
    uri = entry.substr(lt + 1, gt - lt - 1);
  } else {
    uri = uri.substr(0, uri.find(';'));
  }
  const std::string text(Trim(uri));
  url_t* url = url_make(home, text.c_str());
  return url && url->url_user ? Cap(url->url_user) : std::string();
}

void ExtractDiversion(su_home_t* home, const sip_t* sip, SipMessage* out) {
  std::vector<std::string> users;
  for (const sip_unknown_t* u = sip->sip_unknown; u != nullptr; u = u->un_next) {
    if (u->un_name == nullptr || u->un_value == nullptr || !EqualsNoCase(u->un_name, "Diversion")) {
      continue;
    }
    for (std::string_view entry : SplitNameAddrList(u->un_value)) {
      std::string user = DiversionUser(home, entry);
      if (!user.empty()) users.push_back(std::move(user));
    }
  }
  out->diversion_user = JoinCapped(users, ',', kMaxFieldBytes);
}

// Reason: each entry re-assembled as protocol;param;param (the form RFC 3326
// writes), entries joined by ", "; the Q.850 entry's cause becomes q850_cause.
void ExtractReason(const sip_t* sip, SipMessage* out) {
  std::string text;
  for (const sip_reason_t* r = sip->sip_reason; r != nullptr; r = r->re_next) {
    if (r->re_protocol == nullptr) continue;
    if (!text.empty()) text += ", ";
    text += r->re_protocol;
    for (const msg_param_t* p = r->re_params; p && *p; ++p) {
      text += ';';
      text += *p;
    }
    if (out->q850_cause == 0 && r->re_cause && EqualsNoCase(r->re_protocol, "Q.850")) {
      const std::string_view cause = r->re_cause;
      int value = 0;
      auto [end, ec] = std::from_chars(cause.data(), cause.data() + cause.size(), value);
      // Q.850 defines causes 1..127; anything else is not a cause.
      if (ec == std::errc() && end == cause.data() + cause.size() && value >= 1 && value <= 127) {
        out->q850_cause = value;
      }
    }
  }
  out->reason = CapField(text, kMaxFieldBytes);
}

bool IsSdp(const sip_t* sip) {
  if (sip->sip_payload == nullptr || sip->sip_payload->pl_len == 0) return false;
  // No Content-Type with a body is tolerated (some gateways omit it) when the
  // body starts like SDP; anything else must say application/sdp.
  if (sip->sip_content_type == nullptr || sip->sip_content_type->c_type == nullptr) {
    return sip->sip_payload->pl_len >= 2 && sip->sip_payload->pl_data[0] == 'v' &&
           sip->sip_payload->pl_data[1] == '=';
  }
  return EqualsNoCase(sip->sip_content_type->c_type, "application/sdp");
}

}  // namespace

bool ParseSipMessage(std::string_view raw, SipMessage* out, std::string* error) {
  *out = SipMessage{};
  if (raw.empty()) return Fail(error, "empty input");
  msg_mclass_t const* mclass = ParserClass();
  if (mclass == nullptr) return Fail(error, "parser header table could not be built (out of memory)");
  std::unique_ptr<msg_t, MsgDestroy> msg(
      msg_make(mclass, 0, raw.data(), static_cast<ssize_t>(raw.size())));
  if (!msg) return Fail(error, "parser could not allocate the message");
  if (msg_has_error(msg.get())) {
    return Fail(error, "malformed or truncated (bad start line, framing or Content-Length)");
  }
  const sip_t* sip = sip_object(msg.get());
  if (sip == nullptr) return Fail(error, "not a SIP message");
  if (sip->sip_request == nullptr && sip->sip_status == nullptr) {
    return Fail(error, "neither a request line nor a status line");
  }
  if (sip->sip_call_id == nullptr || sip->sip_call_id->i_id == nullptr) {
    return Fail(error, "missing or unparsable Call-ID header");
  }
  if (sip->sip_cseq == nullptr || sip->sip_cseq->cs_method_name == nullptr) {
    return Fail(error, "missing or unparsable CSeq header");
  }
  if (sip->sip_from == nullptr) return Fail(error, "missing or unparsable From header");
  if (sip->sip_to == nullptr) return Fail(error, "missing or unparsable To header");

  su_home_t* home = msg_home(msg.get());
  out->is_request = sip->sip_request != nullptr;
  out->cseq = sip->sip_cseq->cs_seq;
  out->cseq_method = Cap(sip->sip_cseq->cs_method_name);
  if (out->is_request) {
    const sip_request_t* rq = sip->sip_request;
    if (rq->rq_method_name == nullptr) return Fail(error, "request line has no method");
    out->method = Cap(rq->rq_method_name);
    out->ruri_user = Cap(rq->rq_url->url_user);
    out->ruri_host = Cap(rq->rq_url->url_host);
    out->user_agent = sip->sip_user_agent ? Cap(sip->sip_user_agent->g_string) : std::string();
  } else {
    const int status = sip->sip_status->st_status;
    if (status < 100 || status > 699) return Fail(error, "status code outside 100..699");
    out->status = status;
    out->method = out->cseq_method;
    const msg_generic_t* ua = sip->sip_server ? sip->sip_server : sip->sip_user_agent;
    out->user_agent = ua ? Cap(ua->g_string) : std::string();
  }
  out->call_id = Cap(sip->sip_call_id->i_id);
  out->from_tag = Cap(sip->sip_from->a_tag);
  out->to_tag = Cap(sip->sip_to->a_tag);
  out->from_user = Cap(sip->sip_from->a_url->url_user);
  out->from_host = Cap(sip->sip_from->a_url->url_host);
  out->to_user = Cap(sip->sip_to->a_url->url_user);
  if (sip->sip_via) out->via_branch = Cap(sip->sip_via->v_branch);
  if (const sip_p_asserted_identity_t* pai = sip_p_asserted_identity(sip)) {
    out->pai_user = Cap(pai->paid_url->url_user);
  }
  ExtractDiversion(home, sip, out);
  ExtractReason(sip, out);
  if (IsSdp(sip)) {
    const std::string_view body(sip->sip_payload->pl_data, sip->sip_payload->pl_len);
    out->has_sdp = SdpCodecs(home, body, kMaxFieldBytes, &out->codecs);
  }
  return true;
}

}  // namespace callvault
