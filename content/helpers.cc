// ReadBlob / WriteBlob over any content::Store.
#include <vector>

#include "content/store.h"
#include "pkg/errdefs.h"

namespace mcd::content {

std::string ReadBlob(Store& s, const Context& ctx, const std::string& digest) {
  auto r = s.OpenReader(ctx, digest);
  std::string out(static_cast<size_t>(r->Size()), '\0');
  size_t done = 0;
  while (done < out.size()) {
    size_t n = r->ReadAt(out.data() + done, out.size() - done, static_cast<int64_t>(done));
    if (n == 0) throw errdefs::Internal("short read of " + digest);
    done += n;
  }
  return out;
}

void WriteBlob(Store& s, const Context& ctx, const std::string& ref, std::string_view data,
               const std::string& expected, const Labels& labels) {
  std::unique_ptr<Writer> w;
  try {
    w = s.OpenWriter(
        ctx, {.ref = ref, .total = static_cast<int64_t>(data.size()), .expected = expected});
  } catch (const errdefs::Error& e) {
    if (e.code() == errdefs::Code::kAlreadyExists) return;
    throw;
  }
  // A resumed ingest may hold bytes from someone else: start over.
  if (w->GetStatus().offset > 0) w->Truncate(0);
  w->Write(data);
  try {
    w->Commit(static_cast<int64_t>(data.size()), expected, labels);
  } catch (const errdefs::Error& e) {
    if (e.code() != errdefs::Code::kAlreadyExists) throw;
  }
}

}  // namespace mcd::content
