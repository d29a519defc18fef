// Limits of the Control service that client and builder must agree on.
#pragma once

namespace c2w::v1 {

// The largest gRPC message either side accepts: a solve request carries the whole graph (a
// kernel config fragment is inline) and the listings of uploaded trees, far past gRPC's 4 MiB
// default, while blobs travel in 256 KiB chunks and never come near it.
inline constexpr int kMaxMessageBytes = 64 << 20;

}  // namespace c2w::v1
