#include "analysis/compute_backend.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

namespace qs {
namespace {

struct State {
    std::mutex mutex;
    DeviceEngineOpener opener = nullptr;
    std::unique_ptr<DeviceEngine> engine;
    bool tried = false;
    std::string why; // why no engine opened
    std::atomic<DeviceEngine*> active{nullptr};
    BackendStatus status;
};

State& state() {
    static State s;
    return s;
}

std::string cpuName() {
    return cpuDescription(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
}

} // namespace

std::optional<Backend> parseBackend(std::string_view t) {
    if (t == "auto")
        return Backend::Auto;
    if (t == "cpu")
        return Backend::Cpu;
    if (t == "cuda")
        return Backend::Cuda;
    return std::nullopt;
}

std::string_view backendName(Backend b) {
    switch (b) {
    case Backend::Auto:
        return "auto";
    case Backend::Cuda:
        return "cuda";
    case Backend::Cpu:
        break;
    }
    return "cpu";
}

void registerDeviceEngine(DeviceEngineOpener open) {
    State& s = state();
    std::lock_guard lock(s.mutex);
    s.opener = open;
    s.active = nullptr; // the next selectBackend() opens the new engine
    s.engine.reset();
    s.tried = false;
    s.why.clear();
    s.status = {};
}

bool deviceEngineBuilt() {
    State& s = state();
    std::lock_guard lock(s.mutex);
    return s.opener != nullptr;
}

namespace {

// Opens the engine the first time it is wanted (under the state's lock).
void tryOpen(State& s) {
    if (s.tried)
        return;
    s.tried = true;
    if (s.opener) {
        s.engine = s.opener(s.why);
        if (!s.engine && s.why.empty())
            s.why = "the CUDA engine did not start";
    } else {
        s.why = "this build has no CUDA backend";
    }
}

} // namespace

void prepareDeviceEngine() {
    State& s = state();
    std::lock_guard lock(s.mutex);
    tryOpen(s);
}

BackendStatus selectBackend(Backend requested) {
    State& s = state();
    std::lock_guard lock(s.mutex);
    BackendStatus st;
    if (requested != Backend::Cpu)
        tryOpen(s);
    st.deviceAvailable = s.engine != nullptr;
    if (requested != Backend::Cpu && s.engine) {
        st.active = Backend::Cuda;
        st.device = s.engine->deviceName();
        s.active = s.engine.get();
    } else {
        st.active = Backend::Cpu;
        st.device = cpuName();
        s.active = nullptr;
        if (requested == Backend::Cuda || (requested == Backend::Auto && s.opener))
            st.note = "CUDA not used: " + s.why + "; computing on the CPU";
    }
    s.status = st;
    return st;
}

BackendStatus backendStatus() {
    State& s = state();
    std::lock_guard lock(s.mutex);
    if (s.status.device.empty())
        s.status.device = cpuName();
    return s.status;
}

DeviceEngine* activeDeviceEngine() {
    return state().active.load();
}

} // namespace qs
