#pragma once
// The process-wide Boost.Asio context that ttrpc clients, the ttrpc server
// and child-process watchers share. Started on first use with a small fixed
// thread pool; handlers must not block.
#include <boost/asio/io_context.hpp>

namespace mcd::ttrpc {

boost::asio::io_context& Io();

}  // namespace mcd::ttrpc
