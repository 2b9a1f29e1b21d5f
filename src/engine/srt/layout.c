/* Reports libsrt's struct layouts to the Rust layout test (ffi.rs).
 * Compiled by build.rs with the `cc` crate against the system srt.h. */
#include <stddef.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <srt/srt.h>
#include <srt/access_control.h>

struct srt_layout_field {
    const char *name;
    size_t offset;
    size_t size;
};

#define F(type, field) { #field, offsetof(type, field), sizeof(((type *)0)->field) }

static const struct srt_layout_field msgctrl_fields[] = {
    F(SRT_MSGCTRL, flags),
    F(SRT_MSGCTRL, msgttl),
    F(SRT_MSGCTRL, inorder),
    F(SRT_MSGCTRL, boundary),
    F(SRT_MSGCTRL, srctime),
    F(SRT_MSGCTRL, pktseq),
    F(SRT_MSGCTRL, msgno),
    F(SRT_MSGCTRL, grpdata),
    F(SRT_MSGCTRL, grpdata_size),
};

static const struct srt_layout_field tracebstats_fields[] = {
    F(SRT_TRACEBSTATS, msTimeStamp),
    F(SRT_TRACEBSTATS, pktSentTotal),
    F(SRT_TRACEBSTATS, pktRecvTotal),
    F(SRT_TRACEBSTATS, pktSndLossTotal),
    F(SRT_TRACEBSTATS, pktRcvLossTotal),
    F(SRT_TRACEBSTATS, pktRetransTotal),
    F(SRT_TRACEBSTATS, pktSentACKTotal),
    F(SRT_TRACEBSTATS, pktRecvACKTotal),
    F(SRT_TRACEBSTATS, pktSentNAKTotal),
    F(SRT_TRACEBSTATS, pktRecvNAKTotal),
    F(SRT_TRACEBSTATS, usSndDurationTotal),
    F(SRT_TRACEBSTATS, pktSndDropTotal),
    F(SRT_TRACEBSTATS, pktRcvDropTotal),
    F(SRT_TRACEBSTATS, pktRcvUndecryptTotal),
    F(SRT_TRACEBSTATS, byteSentTotal),
    F(SRT_TRACEBSTATS, byteRecvTotal),
    F(SRT_TRACEBSTATS, byteRcvLossTotal),
    F(SRT_TRACEBSTATS, byteRetransTotal),
    F(SRT_TRACEBSTATS, byteSndDropTotal),
    F(SRT_TRACEBSTATS, byteRcvDropTotal),
    F(SRT_TRACEBSTATS, byteRcvUndecryptTotal),
    F(SRT_TRACEBSTATS, pktSent),
    F(SRT_TRACEBSTATS, pktRecv),
    F(SRT_TRACEBSTATS, pktSndLoss),
    F(SRT_TRACEBSTATS, pktRcvLoss),
    F(SRT_TRACEBSTATS, pktRetrans),
    F(SRT_TRACEBSTATS, pktRcvRetrans),
    F(SRT_TRACEBSTATS, pktSentACK),
    F(SRT_TRACEBSTATS, pktRecvACK),
    F(SRT_TRACEBSTATS, pktSentNAK),
    F(SRT_TRACEBSTATS, pktRecvNAK),
    F(SRT_TRACEBSTATS, mbpsSendRate),
    F(SRT_TRACEBSTATS, mbpsRecvRate),
    F(SRT_TRACEBSTATS, usSndDuration),
    F(SRT_TRACEBSTATS, pktReorderDistance),
    F(SRT_TRACEBSTATS, pktRcvAvgBelatedTime),
    F(SRT_TRACEBSTATS, pktRcvBelated),
    F(SRT_TRACEBSTATS, pktSndDrop),
    F(SRT_TRACEBSTATS, pktRcvDrop),
    F(SRT_TRACEBSTATS, pktRcvUndecrypt),
    F(SRT_TRACEBSTATS, byteSent),
    F(SRT_TRACEBSTATS, byteRecv),
    F(SRT_TRACEBSTATS, byteRcvLoss),
    F(SRT_TRACEBSTATS, byteRetrans),
    F(SRT_TRACEBSTATS, byteSndDrop),
    F(SRT_TRACEBSTATS, byteRcvDrop),
    F(SRT_TRACEBSTATS, byteRcvUndecrypt),
    F(SRT_TRACEBSTATS, usPktSndPeriod),
    F(SRT_TRACEBSTATS, pktFlowWindow),
    F(SRT_TRACEBSTATS, pktCongestionWindow),
    F(SRT_TRACEBSTATS, pktFlightSize),
    F(SRT_TRACEBSTATS, msRTT),
    F(SRT_TRACEBSTATS, mbpsBandwidth),
    F(SRT_TRACEBSTATS, byteAvailSndBuf),
    F(SRT_TRACEBSTATS, byteAvailRcvBuf),
    F(SRT_TRACEBSTATS, mbpsMaxBW),
    F(SRT_TRACEBSTATS, byteMSS),
    F(SRT_TRACEBSTATS, pktSndBuf),
    F(SRT_TRACEBSTATS, byteSndBuf),
    F(SRT_TRACEBSTATS, msSndBuf),
    F(SRT_TRACEBSTATS, msSndTsbPdDelay),
    F(SRT_TRACEBSTATS, pktRcvBuf),
    F(SRT_TRACEBSTATS, byteRcvBuf),
    F(SRT_TRACEBSTATS, msRcvBuf),
    F(SRT_TRACEBSTATS, msRcvTsbPdDelay),
    F(SRT_TRACEBSTATS, pktSndFilterExtraTotal),
    F(SRT_TRACEBSTATS, pktRcvFilterExtraTotal),
    F(SRT_TRACEBSTATS, pktRcvFilterSupplyTotal),
    F(SRT_TRACEBSTATS, pktRcvFilterLossTotal),
    F(SRT_TRACEBSTATS, pktSndFilterExtra),
    F(SRT_TRACEBSTATS, pktRcvFilterExtra),
    F(SRT_TRACEBSTATS, pktRcvFilterSupply),
    F(SRT_TRACEBSTATS, pktRcvFilterLoss),
    F(SRT_TRACEBSTATS, pktReorderTolerance),
    F(SRT_TRACEBSTATS, pktSentUniqueTotal),
    F(SRT_TRACEBSTATS, pktRecvUniqueTotal),
    F(SRT_TRACEBSTATS, byteSentUniqueTotal),
    F(SRT_TRACEBSTATS, byteRecvUniqueTotal),
    F(SRT_TRACEBSTATS, pktSentUnique),
    F(SRT_TRACEBSTATS, pktRecvUnique),
    F(SRT_TRACEBSTATS, byteSentUnique),
    F(SRT_TRACEBSTATS, byteRecvUnique),
};

size_t srt_layout_msgctrl_size(void) { return sizeof(SRT_MSGCTRL); }
size_t srt_layout_tracebstats_size(void) { return sizeof(SRT_TRACEBSTATS); }
size_t srt_layout_sockaddr_in_size(void) { return sizeof(struct sockaddr_in); }
size_t srt_layout_sockaddr_in6_size(void) { return sizeof(struct sockaddr_in6); }
size_t srt_layout_sockaddr_storage_size(void) { return sizeof(struct sockaddr_storage); }
int srt_layout_af_inet6(void) { return AF_INET6; }

const struct srt_layout_field *srt_layout_msgctrl_fields(size_t *count)
{
    *count = sizeof(msgctrl_fields) / sizeof(msgctrl_fields[0]);
    return msgctrl_fields;
}

const struct srt_layout_field *srt_layout_tracebstats_fields(size_t *count)
{
    *count = sizeof(tracebstats_fields) / sizeof(tracebstats_fields[0]);
    return tracebstats_fields;
}

struct srt_layout_const {
    const char *name;
    long long value;
};

#define C(name) { #name, (long long)(name) }

static const struct srt_layout_const constants[] = {
    C(SRTO_SNDSYN),
    C(SRTO_RCVSYN),
    C(SRTO_FC),
    C(SRTO_SNDBUF),
    C(SRTO_RCVBUF),
    C(SRTO_SNDTIMEO),
    C(SRTO_RCVTIMEO),
    C(SRTO_MAXBW),
    C(SRTO_LATENCY),
    C(SRTO_INPUTBW),
    C(SRTO_OHEADBW),
    C(SRTO_PASSPHRASE),
    C(SRTO_PBKEYLEN),
    C(SRTO_KMSTATE),
    C(SRTO_IPTOS),
    C(SRTO_TLPKTDROP),
    C(SRTO_NAKREPORT),
    C(SRTO_CONNTIMEO),
    C(SRTO_MININPUTBW),
    C(SRTO_RCVLATENCY),
    C(SRTO_PEERLATENCY),
    C(SRTO_STREAMID),
    C(SRTO_MESSAGEAPI),
    C(SRTO_PAYLOADSIZE),
    C(SRTO_TRANSTYPE),
    C(SRTO_IPV6ONLY),
    C(SRTO_PEERIDLETIMEO),
    C(SRTO_PACKETFILTER),
    C(SRT_ENOSERVER),
    C(SRT_ECONNREJ),
    C(SRT_ESOCKFAIL),
    C(SRT_ESECFAIL),
    C(SRT_ESCLOSED),
    C(SRT_ECONNLOST),
    C(SRT_ENOCONN),
    C(SRT_EINVPARAM),
    C(SRT_EINVSOCK),
    C(SRT_EBINDCONFLICT),
    C(SRT_EASYNCSND),
    C(SRT_EASYNCRCV),
    C(SRT_ETIMEOUT),
    C(SRTT_LIVE),
    C(SRT_EPOLL_IN),
    C(SRT_EPOLL_OUT),
    C(SRT_EPOLL_ERR),
    C(SRTS_INIT),
    C(SRTS_NONEXIST),
    C(SRT_REJ_TIMEOUT),
    C(SRT_REJX_FORBIDDEN),
    C(SRT_REJX_NOTFOUND),
};

const struct srt_layout_const *srt_layout_constants(size_t *count)
{
    *count = sizeof(constants) / sizeof(constants[0]);
    return constants;
}
size_t srt_layout_epoll_event_size(void) { return sizeof(SRT_EPOLL_EVENT); }
