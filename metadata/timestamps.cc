#include "metadata/timestamps.h"

namespace mcd::metadata {

// Not protobuf's TimeUtil::GetCurrentTime: it has whole seconds only, and two
// changes within a second would share an updated_at, which containerd never
// shows.
google::protobuf::Timestamp Now() {
  return ToTimestamp(std::chrono::system_clock::now());
}

}  // namespace mcd::metadata
