// Exceptions in tests: the message of the exception a call throws, for checks on its wording.
#pragma once
#include <catch2/catch.hpp>

#include <string>

namespace xf::testing {

// The message of the exception `f` throws as E; a failed check (and "") when it throws nothing.
// Another exception class propagates, so the test case reports it.
template <class E, class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  FAIL("no exception of the expected class");
  return "";
}

}  // namespace xf::testing
