#include "io/pickle_graph.h"

#include <algorithm>
#include <map>
#include <set>

namespace qs::pickle {
namespace {

// The children of a container (list/tuple items, dict keys and values).
template <class F> void forEachChild(const Object& o, F&& f) {
    for (const Ref& c : o.items)
        if (c)
            f(c);
    for (const auto& [k, v] : o.entries) {
        if (k)
            f(k);
        if (v)
            f(v);
    }
}

// Depth-first search with an explicit stack (pickles can nest deeply): a child still on the
// path closes a cycle. `state`: 1 on the path, 2 done.
bool hasCycleFrom(const Ref& root, std::map<const Object*, int>& state) {
    std::vector<std::pair<const Object*, std::vector<const Object*>>> path;
    auto enter = [&](const Object* o) {
        std::vector<const Object*> kids;
        forEachChild(*o, [&](const Ref& c) { kids.push_back(c.get()); });
        state[o] = 1;
        path.emplace_back(o, std::move(kids));
    };
    if (!root)
        return false;
    enter(root.get());
    while (!path.empty()) {
        auto& [o, kids] = path.back();
        if (kids.empty()) {
            state[o] = 2;
            path.pop_back();
            continue;
        }
        const Object* c = kids.back();
        kids.pop_back();
        const int st = state.count(c) ? state[c] : 0;
        if (st == 1)
            return true;
        if (st == 0)
            enter(c);
    }
    return false;
}

} // namespace

std::size_t nestingDepth(const Ref& root, std::size_t cap) {
    if (!root)
        return 0;
    // Post-order with an explicit stack; each object's depth is memoised, so shared
    // sub-objects are walked once. The graph is acyclic (hasCycle ran first).
    std::map<const Object*, std::size_t> depth;
    std::vector<std::pair<const Object*, std::vector<const Object*>>> path;
    auto enter = [&](const Object* o) {
        std::vector<const Object*> kids;
        forEachChild(*o, [&](const Ref& c) { kids.push_back(c.get()); });
        path.emplace_back(o, std::move(kids));
    };
    enter(root.get());
    while (!path.empty()) {
        if (path.size() > cap)
            return cap + 1;
        auto& [o, kids] = path.back();
        if (kids.empty()) {
            std::size_t d = 1;
            forEachChild(*o, [&](const Ref& c) { d = std::max(d, depth[c.get()] + 1); });
            depth[o] = d;
            path.pop_back();
            continue;
        }
        const Object* c = kids.back();
        kids.pop_back();
        if (!depth.count(c))
            enter(c);
    }
    return depth[root.get()];
}

namespace {

// Shared sub-objects are visited once per path (tied weights appear under each name), so a
// budget bounds the walk of pathological graphs built from the memo.
constexpr std::size_t kVisitBudget = 1'000'000;

void collect(const Ref& v, const std::string& prefix, int depth, std::set<const Object*>& seen,
             std::size_t& budget,
             std::vector<std::pair<std::string, std::shared_ptr<const Tensor>>>& out) {
    if (!v || depth > 64 || budget == 0 || !seen.insert(v.get()).second)
        return;
    --budget;
    auto join = [&](const std::string& k) { return prefix.empty() ? k : prefix + "." + k; };
    switch (v->kind) {
    case Kind::Tensor:
        out.emplace_back(prefix.empty() ? "tensor" : prefix, v->tensor);
        break;
    case Kind::Dict:
        for (const auto& [k, val] : v->entries) {
            if (k->kind == Kind::Str)
                collect(val, join(k->s), depth + 1, seen, budget, out);
            else if (k->kind == Kind::Int)
                collect(val, join(std::to_string(k->i)), depth + 1, seen, budget, out);
        }
        break;
    case Kind::List:
    case Kind::Tuple:
        for (std::size_t i = 0; i < v->items.size(); ++i)
            collect(v->items[i], join(std::to_string(i)), depth + 1, seen, budget, out);
        break;
    default:
        break;
    }
    seen.erase(v.get());
}

} // namespace

bool hasCycle(const std::vector<Ref>& roots) {
    std::map<const Object*, int> state;
    for (const Ref& r : roots)
        if (r && !state.count(r.get()) && hasCycleFrom(r, state))
            return true;
    return false;
}

void emptyContainers(const std::vector<Ref>& objects) {
    for (const Ref& r : objects) {
        r->items.clear();
        r->entries.clear();
    }
}

std::vector<std::pair<std::string, std::shared_ptr<const Tensor>>> collectTensors(const Ref& root) {
    std::vector<std::pair<std::string, std::shared_ptr<const Tensor>>> out;
    std::set<const Object*> seen;
    std::size_t budget = kVisitBudget;
    collect(root, "", 0, seen, budget, out);
    return out;
}

} // namespace qs::pickle
