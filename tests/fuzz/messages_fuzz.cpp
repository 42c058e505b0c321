// Deserialization of what crosses the network: every type in the protocol's
// CAF type-ID block (messages/protocol.hpp), picked by the first input byte,
// read with caf::binary_deserializer from the rest; one more pick reads a
// whole caf::message, as a remote node's bytes are read. What deserializes
// must serialize again and read back the same (operator== where the type has
// one, and the same bytes when serialized once more).
//
// CAF 0.17's serializer never returns on an infinite float or double
// (detail::pack754 halves infinity until it is below 2; a NaN it casts to an
// integer, undefined behaviour), yet its deserializer makes infinity from an
// all-ones exponent. Nor does it keep a subnormal double (5e-324 reads back
// as -1.6e293). That is CAF's bug, not this code's: a value holding a
// non-finite or subnormal number is counted as refused here rather than hang
// the target or fail the round trip. (The config refuses subnormal values.)
#include "messages/protocol.hpp"
#include "tests/fuzz/fuzz_check.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/message.hpp>

#include <cmath>
#include <concepts>
#include <utility>
#include <vector>

using ballast::fuzz::check;

namespace {

// Deserializing an actor handle (group_member) needs an execution unit of a
// system; one without a middleman refuses remote handles, as it should.
caf::actor_system &system() {
  static auto *cfg = [] {
    auto *c = new caf::actor_system_config;
    c->add_message_types<caf::id_block::ballast>();
    c->set("scheduler.max-threads", 1);
    return c;
  }();
  static auto *sys = new caf::actor_system(*cfg);
  return *sys;
}

// operator== where T (or a vector's element) has one.
template <class T> constexpr bool comparable = std::equality_comparable<T>;
template <class T> constexpr bool comparable<std::vector<T>> = comparable<T>;
template <> constexpr bool comparable<caf::message> = false;

// Walks a value as a serializer would and notes a non-finite float.
class nonfinite_finder final : public caf::serializer {
public:
  nonfinite_finder() : caf::serializer(system().dummy_execution_unit()) {}
  bool found = false;

  caf::error begin_object(uint16_t &, std::string &) override { return caf::none; }
  caf::error end_object() override { return caf::none; }
  caf::error begin_sequence(size_t &) override { return caf::none; }
  caf::error end_sequence() override { return caf::none; }
  caf::error apply_raw(size_t, void *) override { return caf::none; }

protected:
  caf::error apply_impl(int8_t &) override { return caf::none; }
  caf::error apply_impl(uint8_t &) override { return caf::none; }
  caf::error apply_impl(int16_t &) override { return caf::none; }
  caf::error apply_impl(uint16_t &) override { return caf::none; }
  caf::error apply_impl(int32_t &) override { return caf::none; }
  caf::error apply_impl(uint32_t &) override { return caf::none; }
  caf::error apply_impl(int64_t &) override { return caf::none; }
  caf::error apply_impl(uint64_t &) override { return caf::none; }
  caf::error apply_impl(float &x) override { return note(x); }
  caf::error apply_impl(double &x) override { return note(x); }
  caf::error apply_impl(long double &x) override { return note(x); }
  caf::error apply_impl(std::string &) override { return caf::none; }
  caf::error apply_impl(std::u16string &) override { return caf::none; }
  caf::error apply_impl(std::u32string &) override { return caf::none; }

private:
  template <class F> caf::error note(F x) {
    found = found || !std::isfinite(x) || std::fpclassify(x) == FP_SUBNORMAL;
    return caf::none;
  }
};

template <class T> bool has_nonfinite(T &x) {
  nonfinite_finder f;
  return f(x) || f.found;
}

template <class T> std::vector<char> save(T &x) {
  std::vector<char> buf;
  caf::binary_serializer sink{system().dummy_execution_unit(), buf};
  check(!sink(x), "what was read can be written");
  return buf;
}

template <class T> void round_trip(const char *data, size_t size) {
  T x{};
  caf::binary_deserializer source{system().dummy_execution_unit(), data, size};
  if (source(x))
    return; // refused: fine, as long as nothing broke
  if (has_nonfinite(x))
    return; // CAF would hang writing it, or garble it (see the top)
  auto bytes = save(x);
  T y{};
  caf::binary_deserializer again{system().dummy_execution_unit(), bytes};
  check(!again(y), "what was written can be read");
  check(again.remaining() == 0, "reading consumes exactly what was written");
  if constexpr (comparable<T>)
    check(x == y, "read back equal");
  check(save(y) == bytes, "written again, the same bytes");
}

constexpr auto first_id = caf::id_block::ballast::begin;
constexpr auto type_count = caf::id_block::ballast::end - first_id;

template <size_t... Is>
void dispatch(size_t pick, const char *data, size_t size, std::index_sequence<Is...>) {
  ((pick == Is ? round_trip<typename caf::type_by_id<first_id + Is>::type>(data, size) : void()),
   ...);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  const size_t pick = data[0] % (type_count + 1);
  const auto *rest = reinterpret_cast<const char *>(data + 1);
  if (pick == type_count)
    round_trip<caf::message>(rest, size - 1);
  else
    dispatch(pick, rest, size - 1, std::make_index_sequence<type_count>{});
  return 0;
}
