#include "sip/parse/sdp_codecs.h"

#include <strings.h>

#include <charconv>
#include <memory>

#include <sofia-sip/sdp.h>

#include "sip/parse/field_text.h"

namespace callvault {
namespace {

struct ParserFree {
  void operator()(sdp_parser_t* p) const { sdp_parser_free(p); }
};

// RFC 3551 static payload types (sofia-sip only fills these in for plain
// RTP/AVP and RTP/SAVP, not for the feedback profiles).
std::string_view StaticPayloadName(unsigned pt) {
  switch (pt) {
    case 0: return "PCMU";
    case 3: return "GSM";
    case 4: return "G723";
    case 5: case 6: case 16: case 17: return "DVI4";
    case 7: return "LPC";
    case 8: return "PCMA";
    case 9: return "G722";
    case 10: case 11: return "L16";
    case 12: return "QCELP";
    case 13: return "CN";
    case 14: return "MPA";
    case 15: return "G728";
    case 18: return "G729";
    case 25: return "CelB";
    case 26: return "JPEG";
    case 28: return "nv";
    case 31: return "H261";
    case 32: return "MPV";
    case 33: return "MP2T";
    case 34: return "H263";
    default: return {};
  }
}

bool ParsePayloadType(std::string_view text, unsigned* pt) {
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, *pt);
  return ec == std::errc() && p == end && *pt <= 127;
}

bool IsRtp(const sdp_media_t* m) {
  if (m->m_proto == sdp_proto_rtp || m->m_proto == sdp_proto_srtp) return true;
  const std::string_view name = m->m_proto_name ? m->m_proto_name : "";
  return name.find("RTP/") != std::string_view::npos;
}

// Name of payload type pt in stream m: its rtpmap as parsed by sofia, else an
// "a=rtpmap:<pt> <name>/<rate>" attribute, else the static assignment.
std::string_view PayloadName(const sdp_media_t* m, unsigned pt) {
  for (const sdp_rtpmap_t* r = m->m_rtpmaps; r != nullptr; r = r->rm_next) {
    if (r->rm_pt == pt && r->rm_encoding && *r->rm_encoding) return r->rm_encoding;
  }
  for (const sdp_attribute_t* a = m->m_attributes; a != nullptr; a = a->a_next) {
    if (a->a_name == nullptr || a->a_value == nullptr || strcasecmp(a->a_name, "rtpmap") != 0) continue;
    std::string_view v = a->a_value;
    const size_t space = v.find(' ');
    unsigned apt;
    if (space == std::string_view::npos || !ParsePayloadType(v.substr(0, space), &apt) || apt != pt) {
      continue;
    }
    v.remove_prefix(space + 1);
    return v.substr(0, v.find('/'));
  }
  return StaticPayloadName(pt);
}

void Add(std::string_view name, size_t cap, std::vector<std::string>* out) {
  if (name.empty() || out->size() >= kMaxCodecs) return;
  std::string capped = CapField(name, cap);
  for (const std::string& have : *out) {
    if (strcasecmp(have.c_str(), capped.c_str()) == 0) return;
  }
  out->push_back(std::move(capped));
}

}  // namespace

bool SdpCodecs(su_home_t* home, std::string_view body, size_t cap, std::vector<std::string>* out) {
  out->clear();
  std::unique_ptr<sdp_parser_t, ParserFree> parser(
      sdp_parse(home, body.data(), static_cast<issize_t>(body.size()), 0));
  const sdp_session_t* session = parser ? sdp_session(parser.get()) : nullptr;
  if (session == nullptr) return false;
  for (const sdp_media_t* m = session->sdp_media; m != nullptr; m = m->m_next) {
    if (m->m_rejected || m->m_port == 0) continue;  // declined stream: no codec in use
    // sofia-sip moves the format list of RTP/AVP and RTP/SAVP streams into
    // m_rtpmaps (in m= order); other profiles keep it in m_format.
    if (m->m_rtpmaps != nullptr) {
      for (const sdp_rtpmap_t* r = m->m_rtpmaps; r != nullptr; r = r->rm_next) {
        Add(PayloadName(m, r->rm_pt), cap, out);
      }
      continue;
    }
    const bool rtp = IsRtp(m);
    for (const sdp_list_t* f = m->m_format; f != nullptr; f = f->l_next) {
      if (f->l_text == nullptr) continue;
      unsigned pt;
      if (!rtp) {
        Add(f->l_text, cap, out);
      } else if (ParsePayloadType(f->l_text, &pt)) {
        Add(PayloadName(m, pt), cap, out);
      }
    }
  }
  return true;
}

}  // namespace callvault
