#include "daemon/listeners.h"

namespace mcd::daemon {

// The ttrpc server joins here when ttrpc/ lands.
struct Listeners::Impl {};

Listeners::Listeners(const Config& cfg, const plugin::Set& set) : cfg_(cfg), set_(set) {}
Listeners::~Listeners() { Stop(); }
void Listeners::Start() {}
void Listeners::Stop() {}

}  // namespace mcd::daemon
