// Everything that touches c10d. LibTorch 1.13's process groups derive from c10d::ProcessGroup,
// 2.x's from c10d::Backend; both offer the same collectives used here. Gloo is compiled when
// its headers were found (GS_WITH_GLOO), NCCL when the LibTorch build is a CUDA one that ships
// it (GS_WITH_NCCL).
#include "core/distributed/communicator.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <initializer_list>
#include <regex>
#include <sstream>
#include <thread>

#include <ATen/ATen.h>
#include <torch/version.h>

#include "core/common/hash.h"

#ifdef GS_WITH_GLOO
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif
#ifdef GS_WITH_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace gs {

namespace {

const char* environment_text(const char* name) {
    const char* text = std::getenv(name);
    return text && *text ? text : nullptr;
}

int environment_integer(const char* name, int fallback, int minimum) {
    const char* text = environment_text(name);
    if (!text) return fallback;
    char* end = nullptr;
    const long value = std::strtol(text, &end, 10);
    if (*end != '\0' || value < minimum || value > 1 << 30) {
        throw std::runtime_error(std::string("environment variable ") + name + "='" + text + "': expected a whole number >= " +
                                 std::to_string(minimum));
    }
    return static_cast<int>(value);
}

// The first of the variables that is set (Slurm's step-level ones come first: a step may use
// fewer tasks than the job allocated).
const char* first_set(std::initializer_list<const char*> names) {
    for (const char* name : names) {
        if (environment_text(name)) return name;
    }
    return *names.begin();
}

// Slurm writes the tasks of each node compressed, "2(x3),1" for 2, 2, 2 and 1 tasks; the count
// of node `node` (SLURM_NODEID) from variable `name`.
int tasks_on_node(const char* name, int node) {
    if (!environment_text(name)) {
        throw std::runtime_error(std::string("environment variable ") + name + " is not set (srun sets it for each task)");
    }
    const std::string text = environment_text(name);
    const std::regex entry("([0-9]{1,6})(\\(x([0-9]{1,6})\\))?");
    std::istringstream list(text);
    std::string item;
    int nodes_listed = 0, tasks = 0;
    while (std::getline(list, item, ',')) {  // to the end: a malformed entry anywhere is an error
        std::smatch parts;
        if (!std::regex_match(item, parts, entry) || std::stoi(parts[1]) < 1 || (parts[3].matched && std::stoi(parts[3]) < 1)) {
            throw std::runtime_error(std::string("environment variable ") + name + "='" + text + "': '" + item +
                                     "' is not a task count such as 2 or 2(x3)");
        }
        const int first = nodes_listed;
        nodes_listed += parts[3].matched ? std::stoi(parts[3]) : 1;
        if (node >= first && node < nodes_listed) tasks = std::stoi(parts[1]);
    }
    if (tasks > 0) return tasks;
    throw std::runtime_error(std::string("environment variable ") + name + "='" + text + "' lists " +
                             std::to_string(nodes_listed) + " node(s), not node SLURM_NODEID=" + std::to_string(node));
}

// A task that srun started: srun sets SLURM_STEP_ID, the job's batch script does not (it has
// SLURM_PROCID=0 and the job's SLURM_NTASKS, but it is no rank of its own).
bool srun_task() { return environment_text("SLURM_STEP_ID") && environment_text("SLURM_PROCID"); }

// The rank variables as srun sets them for each task; the names read, for the errors.
struct RankVariables {
    const char* rank = "RANK";
    const char* world_size = "WORLD_SIZE";
};

RankVariables read_srun_task(DistributedEnvironment& e) {
    const RankVariables names{"SLURM_PROCID", first_set({"SLURM_STEP_NUM_TASKS", "SLURM_NTASKS"})};
    e.world_size = environment_integer(names.world_size, 1, 1);
    e.rank = environment_integer(names.rank, 0, 0);
    e.local_rank = environment_integer("SLURM_LOCALID", 0, 0);
    e.local_world_size = tasks_on_node(first_set({"SLURM_STEP_TASKS_PER_NODE", "SLURM_TASKS_PER_NODE"}),
                                       environment_integer("SLURM_NODEID", 0, 0));
    if (e.local_rank >= e.local_world_size) {
        throw std::runtime_error("environment variable SLURM_LOCALID=" + std::to_string(e.local_rank) +
                                 " is not below the node's " + std::to_string(e.local_world_size) + " task(s)");
    }
    if (e.world_size > 1 && !environment_text("MASTER_ADDR")) {
        throw std::runtime_error("environment variable MASTER_ADDR is not set: srun started this task as rank " +
                                 std::to_string(e.rank) + " of " + std::to_string(e.world_size) +
                                 ", and the ranks meet at rank 0's node; export it in the job script, e.g. "
                                 "MASTER_ADDR=$(scontrol show hostnames \"$SLURM_JOB_NODELIST\" | head -n 1)");
    }
    return names;
}

}  // namespace

DistributedEnvironment DistributedEnvironment::from_environment() {
    DistributedEnvironment e;
    RankVariables names;
    if (environment_text("RANK") || environment_text("WORLD_SIZE") || !srun_task()) {
        e.world_size = environment_integer("WORLD_SIZE", 1, 1);
        e.rank = environment_integer("RANK", 0, 0);
        e.local_rank = environment_integer("LOCAL_RANK", 0, 0);
        e.local_world_size = environment_integer("LOCAL_WORLD_SIZE", 1, 1);
    } else {
        names = read_srun_task(e);
    }
    if (const char* addr = environment_text("MASTER_ADDR")) e.master_addr = addr;
    e.master_port = environment_integer("MASTER_PORT", e.master_port, 1);
    if (e.rank >= e.world_size) {
        throw std::runtime_error(std::string("environment variable ") + names.rank + "=" + std::to_string(e.rank) +
                                 " is not below " + names.world_size + "=" + std::to_string(e.world_size));
    }
    if (e.master_port > 65535) throw std::runtime_error("environment variable MASTER_PORT: above 65535");
    return e;
}

uint64_t tensor_checksum(const std::vector<at::Tensor>& tensors) {
    uint64_t digest = 0;
    for (const at::Tensor& tensor : tensors) {
        const at::Tensor bytes = tensor.detach().to(at::kCPU).contiguous();
        digest = hash_bytes(bytes.data_ptr(), bytes.numel() * bytes.element_size(), digest);
    }
    return digest;
}

void Communicator::average_gradients(const std::vector<at::Tensor>& gradients, int64_t bucket_bytes) {
    gradient_averager(gradients, bucket_bytes)->finish(gradients);
}

bool distributed_backend_available(const std::string& device, std::string* reason) {
    std::string missing;  // what this build lacks for `device`; empty when nothing
    if (device.rfind("cuda", 0) == 0) {
#ifndef GS_WITH_NCCL
        missing = "this build has no NCCL (it needs a CUDA build of LibTorch with NCCL); train on device cpu with Gloo";
#endif
    } else {
#ifndef GS_WITH_GLOO
        missing = "this build has no Gloo (install libgloo-dev and rebuild) for training on the CPU across processes";
#endif
    }
    if (reason && !missing.empty()) *reason = missing;
    return missing.empty();
}

#ifdef GS_WITH_GLOO

namespace {

#if TORCH_VERSION_MAJOR >= 2
using Group = c10d::Backend;  // 2.x: process groups dispatch to backends
#else
using Group = c10d::ProcessGroup;
#endif

using namespace std::chrono_literals;

// Long enough for the slowest thing one rank does while the others wait in a collective
// (growing a Base model, writing its checkpoint); a dead peer is noticed at once anyway,
// when its sockets close.
constexpr std::chrono::milliseconds kCollectiveTimeout = 30min;

class C10dCommunicator : public Communicator {
public:
    explicit C10dCommunicator(const DistributedEnvironment& environment)
        : rank_(environment.rank),
          world_size_(environment.world_size),
          local_rank_(environment.local_rank),
          local_world_size_(environment.local_world_size),
          master_addr_(environment.master_addr) {
        c10d::TCPStoreOptions options;
        options.port = static_cast<uint16_t>(environment.master_port);
        options.isServer = environment.rank == 0;
        options.numWorkers = environment.world_size;
        options.waitWorkers = true;
        options.timeout = kCollectiveTimeout;
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
        // 2.4 made the libuv server the default, and builds without libuv (Debian's) refuse it.
        // Its gain shows with thousands of ranks; the classic server is in every build.
        options.useLibUV = false;
#endif
        try {
            store_ = c10::make_intrusive<c10d::TCPStore>(environment.master_addr, options);
        } catch (const std::exception& error) {
            throw std::runtime_error("rank " + std::to_string(rank_) + ": cannot reach the rendezvous store at " +
                                     environment.master_addr + ":" + std::to_string(environment.master_port) + ": " +
                                     error.what());
        }
    }

    void start_collectives(const std::string& device) override {
        if (group_) throw std::logic_error("the process group is already started");
        std::string reason;
        if (!distributed_backend_available(device, &reason)) throw std::runtime_error(reason);
        device_ = at::Device(device);
        auto prefixed = c10::make_intrusive<c10d::PrefixStore>("pg", store_);
        if (device_.is_cuda()) {
            group_ = make_nccl(prefixed);
        } else {
            auto gloo = c10d::ProcessGroupGloo::Options::create(kCollectiveTimeout);
            gloo->devices.push_back(gloo_device(master_addr_));
            group_ = c10::make_intrusive<c10d::ProcessGroupGloo>(prefixed, rank_, world_size_, gloo);
        }
    }

    int rank() const override { return rank_; }
    int world_size() const override { return world_size_; }
    int local_rank() const override { return local_rank_; }
    int local_world_size() const override { return local_world_size_; }

    std::unique_ptr<GradientAverager> gradient_averager(const std::vector<at::Tensor>& parameters,
                                                        int64_t bucket_bytes) override;

    // Starts summing `tensors` over the ranks.
    c10::intrusive_ptr<c10d::Work> start_sum(std::vector<at::Tensor>& tensors) {
        return group()->allreduce(tensors, sum_options());
    }

    void wait(c10::intrusive_ptr<c10d::Work>& work, const std::string& what) {
        try {
            work->wait();
        } catch (const std::exception& error) {
            throw RankFailure(missing_ranks_message(what) + " (" + error.what() + ")");
        }
    }

    std::vector<double> sum(const std::vector<double>& values) override {
        std::vector<at::Tensor> tensors = {
            at::tensor(values, at::TensorOptions().dtype(at::kDouble)).to(device_)};
        auto work = group()->allreduce(tensors, sum_options());
        wait(work, "a sum across ranks");
        const at::Tensor result = tensors[0].cpu();
        return std::vector<double>(result.data_ptr<double>(), result.data_ptr<double>() + result.numel());
    }

    bool all_equal(uint64_t value) override {
        // The maximum of v and of -v gives both ends of the range at once (62 bits keep -v exact).
        const int64_t v = static_cast<int64_t>(value & ((uint64_t(1) << 62) - 1));
        std::vector<at::Tensor> tensors = {at::tensor(std::vector<int64_t>{v, -v}, at::TensorOptions().dtype(at::kLong)).to(device_)};
        c10d::AllreduceOptions options;
        options.reduceOp = c10d::ReduceOp::MAX;
        auto work = group()->allreduce(tensors, options);
        wait(work, "the parameter checksum");
        const at::Tensor result = tensors[0].cpu();
        return result[0].item<int64_t>() == -result[1].item<int64_t>();
    }

    std::string broadcast_text(const std::string& key, const std::string& value_on_leader) override {
        const std::string full = "message/" + key;
        if (rank_ == 0) store_->set(full, std::vector<uint8_t>(value_on_leader.begin(), value_on_leader.end()));
        const std::vector<uint8_t> bytes = store_call([&] { return store_->get(full); }, "reading '" + key + "'");
        return std::string(bytes.begin(), bytes.end());
    }

    void barrier(const std::string& name) override {
        wait_for_all("barrier/" + name, "the barrier '" + name + "'");
        // Rank 0 hosts the store: it leaves last, or a rank still reading the count would lose it.
        const std::string left = "barrier/" + name + "/left";
        if (rank_ != 0) {
            store_call([&] { return store_->add(left, 1); }, "the barrier '" + name + "'");
            return;
        }
        wait_for_all(left, "the barrier '" + name + "'", world_size_ - 1);
    }

private:
    Group* group() {
        if (!group_) throw std::logic_error("a collective before start_collectives()");
        return group_.get();
    }

    static c10d::AllreduceOptions sum_options() {
        c10d::AllreduceOptions options;
        options.reduceOp = c10d::ReduceOp::SUM;
        return options;
    }

    // Counts this rank in at `key` (unless `expected` is given) and waits until the count
    // reaches `expected` (every rank by default).
    void wait_for_all(const std::string& key, const std::string& what, int expected = -1) {
        if (expected < 0) {
            expected = world_size_;
            store_call([&] { return store_->add(key, 1); }, what);
        }
        while (store_call([&] { return store_->add(key, 0); }, what) < expected) std::this_thread::sleep_for(20ms);
    }

    // Loopback when the group is on this machine; otherwise GLOO_SOCKET_IFNAME's interface or
    // the address this host's name resolves to.
    static std::shared_ptr<::gloo::transport::Device> gloo_device(const std::string& master_addr) {
        if (const char* interface = std::getenv("GLOO_SOCKET_IFNAME"); interface && *interface) {
            return c10d::ProcessGroupGloo::createDeviceForInterface(interface);
        }
        if (master_addr == "127.0.0.1" || master_addr == "localhost") {
            return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
        }
        return c10d::ProcessGroupGloo::createDefaultDevice();
    }

    c10::intrusive_ptr<Group> make_nccl(const c10::intrusive_ptr<c10d::Store>& store) {
#ifdef GS_WITH_NCCL
        return c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank_, world_size_,
                                                            c10d::ProcessGroupNCCL::Options::create());
#else
        (void)store;
        std::string reason;
        distributed_backend_available(device_.str(), &reason);
        throw std::runtime_error(reason);
#endif
    }

    template <typename Call>
    auto store_call(Call call, const std::string& what) -> decltype(call()) {
        try {
            return call();
        } catch (const std::exception& error) {
            throw RankFailure("rank " + std::to_string(rank_) + " lost the rendezvous store during " + what +
                              ": rank 0, which hosts it, has stopped (" + error.what() + ")");
        }
    }

    // After a failed collective every surviving rank signs in; those that do not within a few
    // seconds are the ones that died (or hang). Without the store, rank 0 itself is gone.
    std::string missing_ranks_message(const std::string& what) {
        const std::string prefix = "rank " + std::to_string(rank_) + ": " + what + " failed: ";
        try {
            store_->set("alive/" + std::to_string(rank_), std::vector<uint8_t>{1});
            std::vector<int> missing;
            const auto deadline = std::chrono::steady_clock::now() + 5s;
            do {
                std::this_thread::sleep_for(100ms);
                missing.clear();
                for (int r = 0; r < world_size_; ++r) {
                    if (!store_->check({"alive/" + std::to_string(r)})) missing.push_back(r);
                }
            } while (!missing.empty() && std::chrono::steady_clock::now() < deadline);
            std::string names;
            for (int r : missing) names += (names.empty() ? "" : ", ") + std::to_string(r);
            if (missing.empty()) return prefix + "every rank is still alive; the connection between them broke";
            return prefix + "rank " + names + " of " + std::to_string(world_size_) +
                   " stopped responding (its process ended or hangs)";
        } catch (const std::exception&) {
            return prefix + "rank 0 of " + std::to_string(world_size_) +
                   " stopped responding (its process ended, and with it the rendezvous store)";
        }
    }

    int rank_;
    int world_size_;
    int local_rank_;
    int local_world_size_;
    std::string master_addr_;
    at::Device device_ = at::kCPU;
    c10::intrusive_ptr<c10d::Store> store_;
    c10::intrusive_ptr<Group> group_;
};

// The buckets are flat tensors of the parameters' type; each parameter owns a slice of one.
class BucketedAverager : public GradientAverager {
public:
    BucketedAverager(C10dCommunicator& group, const std::vector<at::Tensor>& parameters, int64_t bucket_bytes)
        : group_(group), slots_(parameters.size()) {
        // Reverse order: the last layers' gradients are computed first. The first bucket is
        // small (1 MiB, as DistributedDataParallel's) so that the first send starts early.
        int64_t limit = std::min<int64_t>(bucket_bytes, 1 << 20), bytes = 0;
        std::vector<int64_t> sizes;
        for (size_t i = parameters.size(); i-- > 0;) {
            const at::Tensor& parameter = parameters[i];
            const bool compatible = !buckets_.empty() && buckets_.back().options.dtype() == parameter.dtype() &&
                                    buckets_.back().options.device() == parameter.device();
            if (!compatible || bytes >= limit) {
                if (!buckets_.empty()) limit = bucket_bytes;
                buckets_.emplace_back();
                buckets_.back().options = parameter.options();
                sizes.push_back(0);
                bytes = 0;
            }
            slots_[i] = {buckets_.size() - 1, sizes.back(), parameter.numel()};
            buckets_.back().members.push_back(i);
            sizes.back() += parameter.numel();
            bytes += parameter.numel() * parameter.element_size();
        }
        for (size_t b = 0; b < buckets_.size(); ++b) buckets_[b].flat = at::empty({sizes[b]}, buckets_[b].options);
        start_step();
    }

    void add(size_t index, const at::Tensor& gradient) override {
        Slot& slot = slots_.at(index);
        if (slot.arrived) throw std::logic_error("gradient " + std::to_string(index) + " added twice in one step");
        slice(slot).copy_(gradient.reshape({-1}));
        slot.arrived = true;
        --buckets_[slot.bucket].waiting;
        send_complete_buckets();
    }

    void finish(const std::vector<at::Tensor>& outputs) override {
        if (outputs.size() != slots_.size()) throw std::logic_error("finish(): not one output per parameter");
        const size_t sent_early = sent_;
        for (size_t i = 0; i < slots_.size(); ++i) {
            if (!slots_[i].arrived) add(i, outputs[i]);
        }
        for (Bucket& bucket : buckets_) {
            group_.wait(bucket.work, "the gradient all-reduce");
            bucket.flat.div_(group_.world_size());
        }
        for (size_t i = 0; i < slots_.size(); ++i) {
            const_cast<at::Tensor&>(outputs[i]).copy_(slice(slots_[i]).view_as(outputs[i]));
        }
        start_step();
        sent_early_ = sent_early;
    }

    size_t buckets_sent_early() const override { return sent_early_; }
    size_t bucket_count() const override { return buckets_.size(); }

private:
    struct Bucket {
        at::TensorOptions options;
        std::vector<size_t> members;
        at::Tensor flat;
        size_t waiting = 0;  // gradients not yet added this step
        c10::intrusive_ptr<c10d::Work> work;
    };
    struct Slot {
        size_t bucket = 0;
        int64_t offset = 0, numel = 0;
        bool arrived = false;
    };

    at::Tensor slice(const Slot& slot) { return buckets_[slot.bucket].flat.narrow(0, slot.offset, slot.numel); }

    // Buckets go out strictly in order, so that every rank issues the same collectives in the
    // same sequence whatever order its gradients arrive in.
    void send_complete_buckets() {
        while (sent_ < buckets_.size() && buckets_[sent_].waiting == 0) {
            std::vector<at::Tensor> tensors = {buckets_[sent_].flat};
            buckets_[sent_].work = group_.start_sum(tensors);
            ++sent_;
        }
    }

    void start_step() {
        sent_ = 0;
        for (Bucket& bucket : buckets_) bucket.waiting = bucket.members.size(), bucket.work.reset();
        for (Slot& slot : slots_) slot.arrived = false;
    }

    C10dCommunicator& group_;
    std::vector<Bucket> buckets_;
    std::vector<Slot> slots_;
    size_t sent_ = 0;        // buckets sent this step
    size_t sent_early_ = 0;  // buckets the last finished step sent before finish()
};

std::unique_ptr<GradientAverager> C10dCommunicator::gradient_averager(const std::vector<at::Tensor>& parameters,
                                                                      int64_t bucket_bytes) {
    group();  // the process group must be started
    return std::make_unique<BucketedAverager>(*this, parameters, bucket_bytes);
}

}  // namespace

std::unique_ptr<Communicator> Communicator::connect(const DistributedEnvironment& environment) {
    return std::make_unique<C10dCommunicator>(environment);
}

#else

std::unique_ptr<Communicator> Communicator::connect(const DistributedEnvironment&) {
    std::string reason;
    distributed_backend_available("cpu", &reason);
    throw std::runtime_error(reason);
}

#endif

}  // namespace gs
