#include "core/observer.hpp"

#include <algorithm>

namespace xf {
namespace {
thread_local std::vector<DispatchObserver*> t_observers;
}

void add_observer(DispatchObserver* o) { t_observers.push_back(o); }
void remove_observer(DispatchObserver* o) {
  t_observers.erase(std::remove(t_observers.begin(), t_observers.end(), o), t_observers.end());
}
const std::vector<DispatchObserver*>& observers() { return t_observers; }

bool names_recorded() {
  for (const DispatchObserver* o : t_observers)
    if (o->records_names()) return true;
  return false;
}

bool graph_building() {
  for (const DispatchObserver* o : t_observers)
    if (o->builds_graph()) return true;
  return false;
}

bool gradient_tracked(const Tensor& t) {
  for (const DispatchObserver* o : t_observers)
    if (o->tracks(t)) return true;
  return false;
}

void notify_host_read(const Tensor& t, Loc loc) {
  for (DispatchObserver* o : t_observers) o->on_host_read(t, loc);
}

}  // namespace xf
