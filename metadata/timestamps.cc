#include "metadata/timestamps.h"

#include <google/protobuf/util/time_util.h>

namespace mcd::metadata {

google::protobuf::Timestamp Now() {
  return google::protobuf::util::TimeUtil::GetCurrentTime();
}

}  // namespace mcd::metadata
