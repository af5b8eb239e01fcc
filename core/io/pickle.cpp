#include "io/pickle.h"

#include "io/pickle_graph.h"

#include "util/text.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <map>
#include <set>

namespace qs::pickle {
namespace {

// Storage type names (torch.FloatStorage, ...) and dtype names (torch.float16, ...).
const std::map<std::string, DType>& storageTypes() {
    static const std::map<std::string, DType> m{
        {"FloatStorage", DType::F32},        {"HalfStorage", DType::F16},
        {"BFloat16Storage", DType::BF16},    {"DoubleStorage", DType::F64},
        {"LongStorage", DType::I64},         {"IntStorage", DType::I32},
        {"ShortStorage", DType::I16},        {"CharStorage", DType::I8},
        {"ByteStorage", DType::U8},          {"BoolStorage", DType::Bool},
        {"ComplexFloatStorage", DType::C64}, {"UntypedStorage", DType::U8},
    };
    return m;
}

const std::map<std::string, DType>& dtypeNames() {
    static const std::map<std::string, DType> m{
        {"float32", DType::F32},
        {"float", DType::F32},
        {"float16", DType::F16},
        {"half", DType::F16},
        {"bfloat16", DType::BF16},
        {"float64", DType::F64},
        {"double", DType::F64},
        {"int64", DType::I64},
        {"long", DType::I64},
        {"int32", DType::I32},
        {"int", DType::I32},
        {"int16", DType::I16},
        {"short", DType::I16},
        {"int8", DType::I8},
        {"uint8", DType::U8},
        {"bool", DType::Bool},
        {"uint16", DType::U16},
        {"uint32", DType::U32},
        {"uint64", DType::U64},
        {"complex64", DType::C64},
        {"float8_e4m3fn", DType::F8_E4M3},
        {"float8_e5m2", DType::F8_E5M2},
        {"float8_e4m3fnuz", DType::F8_E4M3FNUZ},
        {"float8_e5m2fnuz", DType::F8_E5M2FNUZ},
        {"float8_e8m0fnu", DType::F8_E8M0},
    };
    return m;
}

// The callables REDUCE may apply, and the other names GLOBAL may push.
bool allowedGlobal(const std::string& module, const std::string& name) {
    static const std::set<std::string> callables{
        "collections.OrderedDict",
        "collections.Counter",
        "torch._utils._rebuild_tensor_v2",
        "torch._utils._rebuild_tensor_v3",
        "torch._utils._rebuild_parameter",
        "torch._utils._rebuild_parameter_with_state",
        "torch.Size",
        "torch.device",
        "_codecs.encode",
        "builtins.set",
        "__builtin__.set",
        "builtins.bytearray",
    };
    if (callables.count(module + "." + name))
        return true;
    return module == "torch" && (storageTypes().count(name) || dtypeNames().count(name));
}

// Every object the running Machine creates, so that cycles it drops from its stack can still
// be found and broken (set by Machine::run on its thread).
thread_local std::vector<std::weak_ptr<Object>>* t_created = nullptr;

Ref make(Kind k) {
    auto r = std::make_shared<Object>();
    r->kind = k;
    if (t_created)
        t_created->push_back(r);
    return r;
}

class Machine {
public:
    explicit Machine(std::span<const std::byte> d) : m_d(d) {}
    Result<Ref> run();

private:
    Result<Ref> execute();
    std::span<const std::byte> m_d;
    std::size_t m_pos = 0;
    std::vector<Ref> m_stack;
    std::vector<std::size_t> m_marks;
    std::map<std::uint64_t, Ref> m_memo;
    std::map<std::string, std::shared_ptr<const Storage>> m_storages;
    std::string m_error;

    bool fail(std::string why) {
        if (m_error.empty())
            m_error = printableLine(why);
        return false;
    }
    bool need(std::size_t n) { return n <= m_d.size() - m_pos || fail("pickle is truncated"); }
    template <class T> bool read(T& v) {
        if (!need(sizeof(T)))
            return false;
        std::memcpy(&v, m_d.data() + m_pos, sizeof(T));
        m_pos += sizeof(T);
        return true;
    }
    bool readBytes(std::uint64_t n, std::string& out) {
        if (n > m_d.size() - m_pos)
            return fail("pickle string runs past the end of data.pkl");
        out.assign(reinterpret_cast<const char*>(m_d.data() + m_pos), static_cast<std::size_t>(n));
        m_pos += static_cast<std::size_t>(n);
        return true;
    }
    bool readLine(std::string& out) {
        const auto* begin = reinterpret_cast<const char*>(m_d.data() + m_pos);
        const auto* end = static_cast<const char*>(std::memchr(begin, '\n', m_d.size() - m_pos));
        if (!end)
            return fail("pickle GLOBAL line is not terminated");
        out.assign(begin, end);
        m_pos += static_cast<std::size_t>(end - begin) + 1;
        return true;
    }
    bool pop(Ref& out) {
        if (m_stack.empty() || (!m_marks.empty() && m_stack.size() <= m_marks.back()))
            return fail("pickle stack underflow");
        out = std::move(m_stack.back());
        m_stack.pop_back();
        return true;
    }
    bool popToMark(std::vector<Ref>& out) {
        if (m_marks.empty())
            return fail("pickle has no MARK to pop to");
        const std::size_t m = m_marks.back();
        m_marks.pop_back();
        out.assign(std::make_move_iterator(m_stack.begin() + static_cast<long>(m)),
                   std::make_move_iterator(m_stack.end()));
        m_stack.resize(m);
        return true;
    }
    void push(Ref r) { m_stack.push_back(std::move(r)); }
    bool top(Ref*& out) {
        if (m_stack.empty())
            return fail("pickle stack underflow");
        out = &m_stack.back();
        return true;
    }
    bool pushInt(std::int64_t v) {
        auto r = make(Kind::Int);
        r->i = v;
        push(r);
        return true;
    }
    bool pushStr(Kind k, std::string s) {
        auto r = make(k);
        r->s = std::move(s);
        push(r);
        return true;
    }
    bool global(const std::string& module, const std::string& name);
    bool reduce(const Ref& callable, const Ref& args);
    bool persistentLoad(const Ref& pid);
    bool setItems(std::vector<Ref>& kv);
    bool step(std::uint8_t op);
};

bool Machine::global(const std::string& module, const std::string& name) {
    if (!allowedGlobal(module, name))
        return fail("refusing to load: the pickle references " + module + "." + name +
                    " (only tensors, containers and numbers are ever loaded; nothing is executed)");
    return pushStr(Kind::Global, module + "." + name);
}

bool Machine::persistentLoad(const Ref& pid) {
    // ('storage', storage_type, key, location, numel)
    if (pid->kind != Kind::Tuple || pid->items.size() < 5 || pid->items[0]->kind != Kind::Str ||
        pid->items[0]->s != "storage" || pid->items[1]->kind != Kind::Global ||
        pid->items[2]->kind != Kind::Str || pid->items[4]->kind != Kind::Int)
        return fail("unsupported persistent id in pickle (expected a torch storage)");
    const std::string& type = pid->items[1]->s;
    const auto it = storageTypes().find(type.substr(type.rfind('.') + 1));
    if (type.rfind("torch.", 0) != 0 || it == storageTypes().end())
        return fail("unsupported storage type " + type);
    if (pid->items[4]->i < 0)
        return fail("negative storage size in pickle");
    auto& storage = m_storages[pid->items[2]->s];
    if (!storage)
        storage = std::make_shared<Storage>(
            Storage{pid->items[2]->s, it->second, static_cast<std::uint64_t>(pid->items[4]->i)});
    auto r = make(Kind::Storage);
    r->storage = storage;
    push(r);
    return true;
}

bool intList(const Ref& r, std::vector<std::int64_t>& out) {
    if (r->kind != Kind::Tuple && r->kind != Kind::List)
        return false;
    for (const auto& x : r->items) {
        if (x->kind != Kind::Int || x->i < 0)
            return false;
        out.push_back(x->i);
    }
    return true;
}

bool Machine::reduce(const Ref& callable, const Ref& args) {
    if (callable->kind != Kind::Global || args->kind != Kind::Tuple)
        return fail("pickle REDUCE on something that is not an allowed callable");
    const std::string& fn = callable->s;
    const auto& a = args->items;
    if (fn == "collections.OrderedDict" || fn == "collections.Counter") {
        push(make(Kind::Dict));
        return true;
    }
    if (fn == "torch._utils._rebuild_tensor_v2" || fn == "torch._utils._rebuild_tensor_v3") {
        const bool v3 = fn.back() == '3';
        if (a.size() < (v3 ? 7u : 6u) || a[0]->kind != Kind::Storage || a[1]->kind != Kind::Int)
            return fail("malformed " + fn + " arguments");
        auto t = std::make_shared<Tensor>();
        t->storage = a[0]->storage;
        t->offset = a[1]->i;
        t->dtype = t->storage->dtype;
        if (t->offset < 0 || !intList(a[2], t->size) || !intList(a[3], t->stride) ||
            t->size.size() != t->stride.size())
            return fail("malformed tensor size/stride in pickle");
        if (v3) {
            const Ref& d = a[6];
            const auto it = d->kind == Kind::Global
                                ? dtypeNames().find(d->s.substr(d->s.rfind('.') + 1))
                                : dtypeNames().end();
            if (it == dtypeNames().end())
                return fail("unsupported tensor dtype in pickle");
            t->dtype = it->second;
        }
        auto r = make(Kind::Tensor);
        r->tensor = t;
        push(r);
        return true;
    }
    if (fn == "torch._utils._rebuild_parameter" ||
        fn == "torch._utils._rebuild_parameter_with_state") {
        if (a.empty() || a[0]->kind != Kind::Tensor)
            return fail("malformed " + fn + " arguments");
        push(a[0]);
        return true;
    }
    if (fn == "torch.Size") {
        push(a.empty() ? make(Kind::Tuple) : a[0]);
        return true;
    }
    if (fn == "_codecs.encode") {
        if (a.empty() || a[0]->kind != Kind::Str)
            return fail("malformed _codecs.encode arguments");
        // Protocol-2 bytes: latin-1 text whose code points are the byte values.
        std::string bytes;
        const std::string& s = a[0]->s;
        for (std::size_t i = 0; i < s.size(); ++i) {
            const auto c = static_cast<unsigned char>(s[i]);
            if (c == 0xC2 || c == 0xC3) {
                if (i + 1 >= s.size())
                    return fail("malformed latin-1 bytes in pickle");
                bytes += static_cast<char>(((c & 0x03) << 6) |
                                           (static_cast<unsigned char>(s[++i]) & 0x3F));
            } else {
                bytes += static_cast<char>(c);
            }
        }
        return pushStr(Kind::Bytes, std::move(bytes));
    }
    if (fn == "torch.device")
        return pushStr(Kind::Str, a.empty() || a[0]->kind != Kind::Str ? "" : a[0]->s);
    if (fn == "builtins.set" || fn == "__builtin__.set") {
        auto r = make(Kind::List);
        if (!a.empty())
            r->items = a[0]->items;
        push(r);
        return true;
    }
    if (fn == "builtins.bytearray")
        return pushStr(Kind::Bytes, a.empty() ? "" : a[0]->s);
    return fail("refusing to call " + fn + " from a pickle");
}

bool Machine::setItems(std::vector<Ref>& kv) {
    Ref* d = nullptr;
    if (!top(d))
        return false;
    if ((*d)->kind != Kind::Dict || kv.size() % 2)
        return fail("pickle SETITEM(S) on something that is not a dict");
    for (std::size_t i = 0; i < kv.size(); i += 2)
        (*d)->entries.emplace_back(kv[i], kv[i + 1]);
    return true;
}

bool Machine::step(std::uint8_t op) {
    std::string s;
    Ref a, b;
    std::vector<Ref> items;
    switch (op) {
    case 0x80: {
        std::uint8_t v;
        return read(v) && (v <= 5 || fail("unsupported pickle protocol"));
    }
    case 0x95: {
        std::uint64_t n;
        return read(n);
    } // FRAME: a length hint
    case '(':
        m_marks.push_back(m_stack.size());
        return true;
    case 'N':
        push(make(Kind::None));
        return true;
    case 0x88:
    case 0x89: {
        auto r = make(Kind::Bool);
        r->i = op == 0x88;
        push(r);
        return true;
    }
    case 'J': {
        std::int32_t v;
        return read(v) && pushInt(v);
    }
    case 'K': {
        std::uint8_t v;
        return read(v) && pushInt(v);
    }
    case 'M': {
        std::uint16_t v;
        return read(v) && pushInt(v);
    }
    case 0x8a: {
        std::uint8_t n;
        if (!read(n) || !readBytes(n, s))
            return false;
        if (n > 8)
            return fail("pickle integer too large");
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < n; ++i)
            v |= std::uint64_t(static_cast<unsigned char>(s[i])) << (8 * i);
        if (n > 0 && n < 8 && (static_cast<unsigned char>(s[n - 1]) & 0x80))
            v |= ~std::uint64_t(0) << (8 * n);
        return pushInt(static_cast<std::int64_t>(v));
    }
    case 'G': {
        std::uint64_t v;
        if (!read(v))
            return false;
        auto r = make(Kind::Float);
        r->f = std::bit_cast<double>(__builtin_bswap64(v));
        push(r);
        return true;
    }
    case 'X': {
        std::uint32_t n;
        return read(n) && readBytes(n, s) && pushStr(Kind::Str, std::move(s));
    }
    case 0x8c: {
        std::uint8_t n;
        return read(n) && readBytes(n, s) && pushStr(Kind::Str, std::move(s));
    }
    case 0x8d: {
        std::uint64_t n;
        return read(n) && readBytes(n, s) && pushStr(Kind::Str, std::move(s));
    }
    case 'U': {
        std::uint8_t n;
        return read(n) && readBytes(n, s) && pushStr(Kind::Str, std::move(s));
    }
    case 'T': {
        std::uint32_t n;
        return read(n) && readBytes(n, s) && pushStr(Kind::Str, std::move(s));
    }
    case 'B': {
        std::uint32_t n;
        return read(n) && readBytes(n, s) && pushStr(Kind::Bytes, std::move(s));
    }
    case 'C': {
        std::uint8_t n;
        return read(n) && readBytes(n, s) && pushStr(Kind::Bytes, std::move(s));
    }
    case 0x8e: {
        std::uint64_t n;
        return read(n) && readBytes(n, s) && pushStr(Kind::Bytes, std::move(s));
    }
    case ')':
        push(make(Kind::Tuple));
        return true;
    case ']':
        push(make(Kind::List));
        return true;
    case '}':
        push(make(Kind::Dict));
        return true;
    case 0x8f:
        push(make(Kind::List));
        return true; // EMPTY_SET, kept as a list
    case 't':
    case 'l': {
        if (!popToMark(items))
            return false;
        auto r = make(op == 't' ? Kind::Tuple : Kind::List);
        r->items = std::move(items);
        push(r);
        return true;
    }
    case 0x85:
    case 0x86:
    case 0x87: {
        const std::size_t n = op - 0x84u;
        auto r = make(Kind::Tuple);
        r->items.resize(n);
        for (std::size_t i = n; i-- > 0;)
            if (!pop(r->items[i]))
                return false;
        push(r);
        return true;
    }
    case 'd': {
        if (!popToMark(items))
            return false;
        push(make(Kind::Dict));
        return setItems(items);
    }
    case 'a':
    case 'e':
    case 0x90: {
        if (op == 'a') {
            if (!pop(a))
                return false;
            items.push_back(a);
        } else if (!popToMark(items)) {
            return false;
        }
        Ref* l = nullptr;
        if (!top(l))
            return false;
        if ((*l)->kind != Kind::List)
            return fail("pickle APPEND on something that is not a list");
        (*l)->items.insert((*l)->items.end(), items.begin(), items.end());
        return true;
    }
    case 's':
        if (!pop(b) || !pop(a))
            return false;
        items = {a, b};
        return setItems(items);
    case 'u':
        return popToMark(items) && setItems(items);
    case 'c': {
        std::string module;
        return readLine(module) && readLine(s) && global(module, s);
    }
    case 0x93:
        if (!pop(b) || !pop(a))
            return false;
        if (a->kind != Kind::Str || b->kind != Kind::Str)
            return fail("malformed STACK_GLOBAL");
        return global(a->s, b->s);
    case 'Q':
        return pop(a) && persistentLoad(a);
    case 'R':
        return pop(b) && pop(a) && reduce(a, b);
    case 0x81:
        if (!pop(b) || !pop(a))
            return false;
        if (a->kind != Kind::Global || a->s != "collections.OrderedDict")
            return fail("refusing NEWOBJ of " +
                        (a->kind == Kind::Global ? a->s : std::string("a non-class")));
        push(make(Kind::Dict));
        return true;
    case 'b': {
        Ref* t = nullptr;
        if (!pop(a) || !top(t))
            return false;
        // State of tensors/parameters (e.g. _metadata) is not needed to read the weights.
        if ((*t)->kind != Kind::Tensor && (*t)->kind != Kind::Dict)
            return fail("pickle BUILD on an object that is not a tensor or dict");
        return true;
    }
    case 'q': {
        std::uint8_t i;
        return read(i) && (m_stack.empty() ? fail("pickle memo of nothing")
                                           : (m_memo[i] = m_stack.back(), true));
    }
    case 'r': {
        std::uint32_t i;
        return read(i) && (m_stack.empty() ? fail("pickle memo of nothing")
                                           : (m_memo[i] = m_stack.back(), true));
    }
    case 0x94:
        return m_stack.empty() ? fail("pickle memo of nothing")
                               : (m_memo[m_memo.size()] = m_stack.back(), true);
    case 'h':
    case 'j': {
        std::uint32_t i = 0;
        if (op == 'h') {
            std::uint8_t v;
            if (!read(v))
                return false;
            i = v;
        } else if (!read(i)) {
            return false;
        }
        const auto it = m_memo.find(i);
        if (it == m_memo.end())
            return fail("pickle refers to a memo entry that does not exist");
        push(it->second);
        return true;
    }
    case '0':
        return pop(a);
    case '2': {
        Ref* t = nullptr;
        return top(t) && (push(*t), true);
    }
    default: {
        char buf[8];
        std::snprintf(buf, sizeof buf, "0x%02x", op);
        return fail(std::string("refusing pickle opcode ") + buf +
                    " (not used by torch.save state dicts)");
    }
    }
}

constexpr std::size_t kMaxPickleNesting = 1000;

Result<Ref> Machine::run() {
    std::vector<std::weak_ptr<Object>> created;
    t_created = &created;
    auto result = execute();
    t_created = nullptr;
    // Through the memo a pickle can make a container hold itself (and then drop it from the
    // stack); shared_ptr would never free such a cycle. State dicts have none, so any cycle is
    // refused; then, as on any failure, every container still alive is emptied so all is freed.
    std::vector<Ref> alive;
    for (const auto& w : created)
        if (Ref r = w.lock())
            alive.push_back(std::move(r));
    if (result.ok() && hasCycle(alive))
        result = makeError("the pickle holds a reference cycle (state dicts never do)");
    // Freeing a graph nested 100000 deep recurses that deep and can overflow the stack; state
    // dicts nest a handful of levels, so deep ones are refused (and emptied iteratively below).
    if (result.ok() && nestingDepth(*result, kMaxPickleNesting) > kMaxPickleNesting)
        result = makeError("the pickle nests containers more than " +
                           std::to_string(kMaxPickleNesting) +
                           " levels deep (state dicts nest a few)");
    if (!result.ok())
        emptyContainers(alive);
    m_stack.clear();
    m_memo.clear();
    return result;
}

Result<Ref> Machine::execute() {
    while (m_pos < m_d.size()) {
        const auto op = static_cast<std::uint8_t>(m_d[m_pos++]);
        if (op == '.') {
            if (m_stack.size() != 1)
                return makeError("pickle ended with " + std::to_string(m_stack.size()) +
                                 " objects on its stack");
            return m_stack.back();
        }
        if (!step(op))
            return makeError(m_error.empty() ? "malformed pickle" : m_error);
    }
    return makeError("pickle has no STOP opcode (truncated data.pkl?)");
}

} // namespace

Result<Ref> unpickle(std::span<const std::byte> data) {
    return Machine(data).run();
}

} // namespace qs::pickle
