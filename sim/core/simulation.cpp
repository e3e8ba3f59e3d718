#include "trustsim/simulation.hpp"

#include <Eigen/Core>
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>

#include "trustsim/dispositions.hpp"
#include "trustsim/errors.hpp"
#include "trustsim/network.hpp"
#include "trustsim/parallel.hpp"
#include "trustsim/perception.hpp"
#include "trustsim/random.hpp"

namespace trustsim {
namespace {

Perception starting_perception(const std::optional<Perception>& given, float propensity) {
    return given ? *given : initial_perception(propensity);
}

// What a customer experienced with a firm this step, kept for word of mouth: 4 bytes, because every
// customer gathers its neighbours' records and that gather is the step's main memory traffic. A full
// interaction carries all four signals; a breach carries only its reliability signal of 0.
struct Experience {
    static constexpr std::uint8_t news = 1,  // the teller's trust changed: there is something to tell
        positive = 2, delivered = 4, self_serving = 8, breach_only = 16;
    std::uint16_t firm;
    std::uint8_t flags;          // 0: no interaction this step
    std::uint8_t intimacy_code;  // intimacy signal x 2: 0, 1 (one half) or 2
};
static_assert(sizeof(Experience) == 4);

// The flags telling whether trust went up, down or did not move.
std::uint8_t valence_flags(float before, float after) {
    return static_cast<std::uint8_t>((after != before ? Experience::news : 0) | (after > before ? Experience::positive : 0));
}

// Accumulator slots, per firm, of the customer phases.
enum Slot : std::size_t {
    active, churn_in, churn_out, triggers, lost_sales, purchases, checks, checked_good_faith,
    fraud_attempts, fraud_detected, oversold, promoters, detractors, respondents, wom_positive, wom_negative,
    slot_count
};
// Accumulator slots, per firm, of the end-of-step measurement.
enum Measure : std::size_t { m_customers, m_trust, m_credibility, m_reliability, m_intimacy, m_self, m_distrust, m_trust_all, measure_count };

struct FirmState {
    FirmSpec policy;  // in force now: events and adaptive control change it
    std::int64_t first_employee = 0, employee_count = 0;
    double trust_in_customers = 0.5;
    std::vector<double> window_fraud_loss, window_revenue;  // adaptive control's recent history
};

// What word of mouth keeps from one batch of listeners to the next in a block, so as to allocate it once.
struct Listeners {
    std::vector<Stream> streams;
    std::vector<std::int32_t> drawn;  // well mixed: the contacts drawn
    std::vector<std::size_t> contacts_start, messages_start, news_before;
    std::vector<Experience> told;
};

}  // namespace

struct Simulation::State {
    ModelSpec spec;
    Context context;
    int firms;
    std::int64_t customers, employees;
    std::int64_t step = 0;
    PhaseSeconds seconds;
    std::uint64_t seed;
    Network network;
    std::vector<FirmState> firm;

    // Customers, structure of arrays. Perceptions are [customer * firms + firm].
    Eigen::ArrayXf c_propensity, c_honesty, c_reciprocity;
    std::vector<std::uint8_t> c_opportunist;
    std::vector<std::int16_t> c_firm;
    std::vector<Perception> c_perception;
    std::vector<Experience> c_experience;
    // Scandal awareness, one array per scandal event, double-buffered so word of mouth reads the start of the phase.
    std::vector<std::vector<std::uint8_t>> aware, aware_next;

    // Employees, grouped by firm.
    Eigen::ArrayXf e_propensity, e_honesty, e_reciprocity, e_trust, e_trustworthiness;
    std::vector<std::int16_t> e_firm;
    std::vector<Perception> e_perception;
    std::vector<std::uint8_t> e_quit;

    State(ModelSpec s, Context c);
    Perception& perception(std::int64_t k, int f) { return c_perception[static_cast<std::size_t>(k * firms + f)]; }
    const Perception& perception(std::int64_t k, int f) const {
        return c_perception[static_cast<std::size_t>(k * firms + f)];
    }
    int choose_firm(std::int64_t k, Stream& rng) const;

    // Calls body(from, to) for each batch of streams [from, to) in the block of customers [first, last).
    static_assert(smallest_block % StreamBatch::agents == 0, "a batch of streams computed together must not straddle two blocks");
    template <class Body>
    static void for_each_batch(std::int64_t first, std::int64_t last, const Body& body) {
        constexpr auto batch = static_cast<std::int64_t>(StreamBatch::agents);
        for (auto from = first; from < last; from += batch) body(from, std::min(last, from + batch));
    }
    void hire(std::int64_t e, Stream& rng);

    void apply_events(std::vector<double>& breach_size);
    void employees_phase();
    std::vector<double> customers_phase(const std::vector<double>& breach_size);
    std::vector<double> word_of_mouth_phase(std::vector<double>& tally);
    void hear(std::int64_t j, Experience x, double* heard);
    void measure(std::int64_t k, double* sum) const;
    StepMetrics firms_phase(const std::vector<double>& tally, const std::vector<double>& measured);
};

Simulation::State::State(ModelSpec s, Context c)
    : spec(std::move(s)), context(std::move(c)), firms(static_cast<int>(spec.firms.size())), customers(spec.customers.count),
      employees(0), seed(static_cast<std::uint64_t>(spec.simulation.seed)) {
    if (firms < 1 || firms > std::numeric_limits<std::int16_t>::max()) throw InternalError("firm count out of range");
    context.threads = std::max(1, context.threads);
    for (const auto& f : spec.firms) {
        FirmState state;
        state.policy = f;
        state.first_employee = employees;
        state.employee_count = f.employees;
        employees += f.employees;
        firm.push_back(std::move(state));
    }

    const auto n = static_cast<std::size_t>(customers);
    c_propensity.resize(customers);
    c_honesty.resize(customers);
    c_reciprocity.resize(customers);
    c_opportunist.assign(n, 0);
    c_firm.assign(n, 0);
    c_perception.resize(n * static_cast<std::size_t>(firms));
    c_experience.assign(n, Experience{});
    for_each_block(customers, context.threads, [&](std::int64_t first, std::int64_t last) {
        for (std::int64_t k = first; k < last; ++k) {
            Stream rng(seed, Phase::setup_customers, 0, static_cast<std::uint64_t>(k));
            const bool opportunist = rng.bernoulli(spec.customers.opportunist_share);
            const Disposition d = draw_disposition(spec.customers.dispositions, rng);
            c_opportunist[static_cast<std::size_t>(k)] = opportunist;
            c_propensity[k] = d.propensity;
            c_honesty[k] = opportunist ? 0.0f : d.honesty;
            c_reciprocity[k] = opportunist ? 0.0f : d.reciprocity;
            for (int f = 0; f < firms; ++f) perception(k, f) = starting_perception(spec.customers.initial_perception, d.propensity);
            c_firm[static_cast<std::size_t>(k)] = static_cast<std::int16_t>(choose_firm(k, rng));
        }
    });

    const auto m = static_cast<std::size_t>(employees);
    e_propensity.resize(employees);
    e_honesty.resize(employees);
    e_reciprocity.resize(employees);
    e_trust.resize(employees);
    e_trustworthiness.resize(employees);
    e_firm.resize(m);
    e_perception.resize(m);
    e_quit.assign(m, 0);
    for (int f = 0; f < firms; ++f)
        for (std::int64_t e = firm[f].first_employee; e < firm[f].first_employee + firm[f].employee_count; ++e) {
            e_firm[static_cast<std::size_t>(e)] = static_cast<std::int16_t>(f);
            Stream rng(seed, Phase::setup_employees, 0, static_cast<std::uint64_t>(e));
            hire(e, rng);
        }

    for (const auto& event : spec.events)
        if (event.kind == Event::Kind::scandal) {
            aware.emplace_back(n, 0);
            aware_next.emplace_back(n, 0);
        }
    network = build_network(spec.network, customers, seed, context.threads);
}

// Loyalty failed (or at the start): pick a firm with probability proportional to exp(beta_c T).
int Simulation::State::choose_firm(std::int64_t k, Stream& rng) const {
    std::array<double, 64> small_weights;
    std::vector<double> large_weights;
    double* weights = small_weights.data();
    if (firms > static_cast<int>(small_weights.size())) {
        large_weights.resize(static_cast<std::size_t>(firms));
        weights = large_weights.data();
    }
    const float lambda = static_cast<float>(spec.behaviour.trust_lambda);
    double highest = -std::numeric_limits<double>::infinity();
    for (int f = 0; f < firms; ++f) {
        weights[f] = spec.behaviour.choice_beta * trust(perception(k, f), lambda);
        highest = std::max(highest, weights[f]);
    }
    double total = 0;
    for (int f = 0; f < firms; ++f) total += (weights[f] = std::exp(weights[f] - highest));
    double pick = rng.uniform() * total;
    for (int f = 0; f < firms - 1; ++f)
        if ((pick -= weights[f]) < 0) return f;
    return firms - 1;
}

// A new employee (at the start, or replacing one who quit): fresh dispositions and initial perception.
void Simulation::State::hire(std::int64_t e, Stream& rng) {
    const Disposition d = draw_disposition(spec.employees.dispositions, rng);
    e_propensity[e] = d.propensity;
    e_honesty[e] = d.honesty;
    e_reciprocity[e] = d.reciprocity;
    auto& p = e_perception[static_cast<std::size_t>(e)];
    p = starting_perception(spec.employees.initial_perception, d.propensity);
    e_trust[e] = trust(p, static_cast<float>(spec.behaviour.trust_lambda));
    e_trustworthiness[e] = reciprocal_goodwill(d.honesty, d.reciprocity, e_trust[e]);
}

// Scheduled events that start this step. Policy changes take effect at once; breaches are applied by the
// customer phase (which owns customer state), scandals by word of mouth while they last.
void Simulation::State::apply_events(std::vector<double>& breach_size) {
    for (const auto& event : spec.events) {
        if (event.step != step) continue;
        auto& f = firm[static_cast<std::size_t>(event.firm)];
        switch (event.kind) {
            case Event::Kind::policy:
                for (const auto& change : event.changes) change.apply(f.policy);
                break;
            case Event::Kind::breach:
                breach_size[static_cast<std::size_t>(event.firm)] =
                    1.0 - (1.0 - breach_size[static_cast<std::size_t>(event.firm)]) * (1.0 - event.size);
                break;
            case Event::Kind::scandal: break;
        }
    }
}

// Phase A: every employee perceives its firm, updates its trust and trustworthiness, and may quit.
void Simulation::State::employees_phase() {
    const auto& b = spec.behaviour;
    const auto lambda = static_cast<float>(b.trust_lambda);
    for_each_block(employees, context.threads, [&](std::int64_t first, std::int64_t last) {
        for (std::int64_t e = first; e < last; ++e) {
            const auto& policy = firm[static_cast<std::size_t>(e_firm[static_cast<std::size_t>(e)])].policy;
            Stream rng(seed, Phase::employees, static_cast<std::uint64_t>(step), static_cast<std::uint64_t>(e));
            auto& p = e_perception[static_cast<std::size_t>(e)];
            move_toward(p.credibility, static_cast<float>(policy.competence), static_cast<float>(b.rate_credibility));
            move_toward(p.reliability, rng.bernoulli(policy.reliability_to_staff) ? 1.0f : 0.0f, static_cast<float>(b.rate_reliability));
            move_toward(p.intimacy, static_cast<float>(1.0 - policy.control_employees), static_cast<float>(b.rate_intimacy));
            move_toward(p.self_orientation, static_cast<float>((policy.control_employees + policy.sales_pressure) / 2),
                        static_cast<float>(b.rate_self_orientation));
            const float t = trust(p, lambda);
            const bool quits = rng.bernoulli(b.quit_trust_sensitivity * (1.0 - t) + b.quit_base);
            e_quit[static_cast<std::size_t>(e)] = quits;
            if (quits) {
                hire(e, rng);
            } else {
                e_trust[e] = t;
                e_trustworthiness[e] = reciprocal_goodwill(e_honesty[e], e_reciprocity[e], t);
            }
        }
    });
}

// Phase B: active customers stay or switch, may get a trigger, buy or not, are served, checked or trusted,
// act in good or bad faith, and update their perception of the firm. Returns per-firm tallies.
std::vector<double> Simulation::State::customers_phase(const std::vector<double>& breach_size) {
    const auto& b = spec.behaviour;
    const auto lambda = static_cast<float>(b.trust_lambda);
    const bool any_breach = std::any_of(breach_size.begin(), breach_size.end(), [](double s) { return s > 0; });
    // An active customer uses about three blocks of its stream (one 32-bit word per trial, two for the server),
    // an inactive one a single word.
    constexpr std::uint32_t blocks_per_visitor = 3;
    // Customer k, active this step, with its stream past the word that made it so.
    const auto serve = [&](std::int64_t k, Stream& rng, double* tally) {
        auto& experience = c_experience[static_cast<std::size_t>(k)];
        int f = c_firm[static_cast<std::size_t>(k)];
        if (!rng.bernoulli(logistic(b.loyalty_beta * (trust(perception(k, f), lambda) - b.loyalty_threshold)))) {
            const int chosen = choose_firm(k, rng);
            if (chosen != f) {
                tally[f * slot_count + churn_out] += 1;
                tally[chosen * slot_count + churn_in] += 1;
                f = chosen;
                c_firm[static_cast<std::size_t>(k)] = static_cast<std::int16_t>(f);
            }
        }
        double* t = tally + f * slot_count;
        const auto& policy = firm[static_cast<std::size_t>(f)].policy;
        auto& p = perception(k, f);
        t[active] += 1;
        if (rng.bernoulli(policy.triggers)) {
            t[triggers] += 1;
            p.credibility += static_cast<float>(b.trigger_boost) * (1.0f - p.credibility);
        }
        const float before = trust(p, lambda);
        if (!rng.bernoulli(logistic(b.purchase_beta * (before - b.purchase_threshold + b.sales_push * policy.sales_pressure)))) {
            t[lost_sales] += 1;
            return;
        }
        t[purchases] += 1;
        const auto& staff = firm[static_cast<std::size_t>(f)];
        const auto server = staff.first_employee + static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(staff.employee_count)));
        const double q = e_trustworthiness[server];
        const bool checked = rng.bernoulli(policy.control_customers);
        const bool trusted_first = !checked && rng.bernoulli(policy.trust_first);
        const bool delivered = rng.bernoulli(q);
        const bool oversold = rng.bernoulli(policy.sales_pressure * (1.0 - q));
        const bool good_faith = rng.bernoulli(reciprocal_goodwill(c_honesty[k], c_reciprocity[k], p.intimacy));
        // Tallies of outcomes are added as 0 or 1, not under a test of a coin toss that would mispredict.
        t[fraud_attempts] += !good_faith;
        t[fraud_detected] += !good_faith && checked;
        t[checks] += checked;
        t[checked_good_faith] += checked && good_faith;
        t[Slot::oversold] += oversold;

        const bool self_serving = checked || oversold;
        const int intimacy_code = trusted_first ? 2 : checked ? 0 : 1;
        move_toward(p.credibility, delivered ? static_cast<float>(policy.competence) : 0.0f, static_cast<float>(b.rate_credibility));
        move_toward(p.reliability, delivered ? 1.0f : 0.0f, static_cast<float>(b.rate_reliability));
        move_toward(p.intimacy, 0.5f * static_cast<float>(intimacy_code), static_cast<float>(b.rate_intimacy));
        move_toward(p.self_orientation, self_serving ? 1.0f : 0.0f, static_cast<float>(b.rate_self_orientation));
        const float after = trust(p, lambda);
        if (!(experience.flags & Experience::breach_only))  // a breach this step is what this customer tells of
            experience = {static_cast<std::uint16_t>(f),
                          static_cast<std::uint8_t>((delivered ? Experience::delivered : 0) | (self_serving ? Experience::self_serving : 0) |
                                                    valence_flags(before, after)),
                          static_cast<std::uint8_t>(intimacy_code)};

        // The score min(10, floor(x)) is 9 or more when x is, 6 or less when x is under 7: no floor needed.
        const double score = 10.0 * after / b.nps_full_trust;
        t[respondents] += 1;
        t[promoters] += score >= 9;
        t[detractors] += score < 7;
    };
    // In batches: first every customer's breach and whether it is active, a word of its stream each; then the
    // streams of the active ones only, computed together, and their visits, without a branch on who is active.
    return reduce_blocks(customers, static_cast<std::size_t>(firms) * slot_count, context.threads, [&](std::int64_t first, std::int64_t last, double* tally) {
        const auto step_number = static_cast<std::uint64_t>(step);
        // An active customer's first block is computed in both batches: simpler than copying it, and about as cheap.
        StreamBatch first_words(seed, Phase::customers, step_number, 1), visitor_streams(seed, Phase::customers, step_number, blocks_per_visitor);
        std::array<std::uint64_t, StreamBatch::agents> visitors;
        for_each_batch(first, last, [&](std::int64_t from, std::int64_t to) {
            std::size_t count = 0;
            for (auto k = from; k < to; ++k) {
                auto& experience = c_experience[static_cast<std::size_t>(k)];
                experience = Experience{};
                const int f = c_firm[static_cast<std::size_t>(k)];
                if (any_breach && breach_size[static_cast<std::size_t>(f)] > 0) {
                    auto& p = perception(k, f);
                    const float before = trust(p, lambda);
                    p.reliability *= static_cast<float>(1.0 - breach_size[static_cast<std::size_t>(f)]);
                    experience = {static_cast<std::uint16_t>(f), static_cast<std::uint8_t>(Experience::breach_only | valence_flags(before, trust(p, lambda))), 0};
                }
                visitors[count] = static_cast<std::uint64_t>(k);
                count += first_words(static_cast<std::uint64_t>(k)).bernoulli(spec.customers.visit_rate);
            }
            visitor_streams.compute(visitors.data(), count);
            for (std::size_t i = 0; i < count; ++i) {
                Stream rng = visitor_streams.chosen(i);
                rng.discard(1);
                serve(static_cast<std::int64_t>(visitors[i]), rng, tally);
            }
        });
    });
}

// Phase C and the end-of-step measurement, in one pass over the customers: each customer pulls what its
// neighbours experienced this step, scandals spread by media and by aware neighbours (hazard media +
// contagion x aware share of neighbours: the Bass model on a network), and then the customer's
// perceptions, final for the step, are measured. Adds the messages to the tally; returns the measurement.
//
// Listeners are taken in batches (those of a batch of streams), each step of the work done for the whole
// batch in a loop of its own: the contacts' records are gathered in one loop over all the batch's contacts,
// without branches and prefetched ahead, so that their scattered cache misses overlap; then each listener's
// news is decided, a word of its stream per item, without a branch on the coin; then the messages are heard.
// Every listener draws the same words and updates its own perceptions in the same order as one at a time.
std::vector<double> Simulation::State::word_of_mouth_phase(std::vector<double>& tally) {
    const bool well_mixed = spec.network.kind == NetworkSpec::Kind::well_mixed;
    const bool static_network = spec.network.kind != NetworkSpec::Kind::none && !well_mixed;
    const std::int64_t drawn_per_listener = well_mixed && customers > 1 ? std::llround(spec.network.mean_degree) : 0;

    std::vector<const Event*> scandals;
    std::vector<std::size_t> running;  // indices into `aware` of scandals running this step
    for (const auto& event : spec.events)
        if (event.kind == Event::Kind::scandal) {
            if (step >= event.step && step < event.step + event.duration) running.push_back(scandals.size());
            scandals.push_back(&event);
        }
    for (const auto s : running) aware_next[s] = aware[s];

    const auto& b = spec.behaviour;
    const std::array<double, 2> tells = {b.wom_negative, b.wom_positive};  // by the teller's positive flag
    const auto heard_width = static_cast<std::size_t>(firms) * 2;
    // Blocks of each listener's stream to compute ahead: two words per drawn contact (well mixed), then a
    // word per news item (about 3.5 at the defaults, more than 4 for a quarter of the listeners).
    const auto blocks_per_listener = static_cast<std::uint32_t>(well_mixed ? std::min<std::int64_t>(8, 1 + (drawn_per_listener + 1) / 2) : static_network ? 2 : 0);
    // Contacts ahead whose records are prefetched, into the level-2 cache: the gathering loop is short, so the
    // distance must be long for a miss to arrive in time (64 ahead left most of them stalling), and the level-1
    // cache cannot track that many misses at once.
    constexpr std::size_t prefetch_distance = 512;

    const auto listen = [&](std::int64_t first, std::int64_t last, StreamBatch& streams, Listeners& batch, double* sum) {
        const auto n = static_cast<std::size_t>(last - first);
        auto& rng = batch.streams;
        rng.clear();
        for (auto j = first; j < last; ++j) rng.push_back(streams(static_cast<std::uint64_t>(j)));

        // The contacts of listener first + i are contacts[start[i] .. start[i + 1]); `readable` of them, at least
        // all of the batch's, may be read (ahead, to prefetch).
        auto& start = batch.contacts_start;
        start.resize(n + 1);
        const std::int32_t* contacts = nullptr;
        std::size_t readable = 0;
        if (static_network) {
            const auto* offsets = network.offsets().data() + first;
            for (std::size_t i = 0; i <= n; ++i) start[i] = static_cast<std::size_t>(offsets[i] - offsets[0]);
            contacts = network.neighbours_begin(first);
            readable = static_cast<std::size_t>(network.edge_ends() - offsets[0]);
        } else {
            const auto degree = static_cast<std::size_t>(drawn_per_listener);
            auto& drawn = batch.drawn;
            drawn.resize(n * degree);
            for (std::size_t i = 0; i < n; ++i) {
                const auto j = first + static_cast<std::int64_t>(i);
                for (std::size_t c = 0; c < degree; ++c) {
                    const auto other = static_cast<std::int64_t>(rng[i].below(static_cast<std::uint64_t>(customers - 1)));
                    drawn[i * degree + c] = static_cast<std::int32_t>(other >= j ? other + 1 : other);
                }
            }
            for (std::size_t i = 0; i <= n; ++i) start[i] = i * degree;
            contacts = drawn.data();
            readable = drawn.size();
        }

        // The news among the contacts, in order: told[news_before[c] ..] holds what contact c and the later ones tell.
        const std::size_t total = start[n];
        auto& told = batch.told;
        auto& news_before = batch.news_before;
        told.resize(total);
        news_before.resize(total + 1);
        std::size_t news = 0;
        for (std::size_t c = 0; c < total; ++c) {
            __builtin_prefetch(&c_experience[static_cast<std::size_t>(contacts[std::min(c + prefetch_distance, readable - 1)])], 0, 1);
            const Experience x = c_experience[static_cast<std::size_t>(contacts[c])];
            news_before[c] = news;
            told[news] = x;
            news += x.flags & Experience::news;
        }
        news_before[total] = news;

        // Which news each listener is told: the messages are moved, in order, to the front of `told`.
        auto& messages_start = batch.messages_start;
        messages_start.resize(n + 1);
        std::size_t messages = 0;
        for (std::size_t i = 0; i < n; ++i) {
            messages_start[i] = messages;
            for (auto m = news_before[start[i]]; m < news_before[start[i + 1]]; ++m) {
                const Experience x = told[m];
                told[messages] = x;
                messages += rng[i].bernoulli(tells[(x.flags & Experience::positive) != 0]);
            }
        }
        messages_start[n] = messages;
        for (std::size_t i = 0; i < n; ++i)
            for (auto m = messages_start[i]; m < messages_start[i + 1]; ++m) hear(first + static_cast<std::int64_t>(i), told[m], sum);

        for (std::size_t i = 0; i < n && !running.empty(); ++i) {
            const auto j = static_cast<std::size_t>(first) + i;
            const auto* const begin = contacts + start[i];
            const auto degree = start[i + 1] - start[i];
            for (const auto s : running) {
                if (aware[s][j]) continue;
                std::int64_t aware_neighbours = 0;
                for (std::size_t c = 0; c < degree; ++c) aware_neighbours += aware[s][static_cast<std::size_t>(begin[c])];
                const Event& scandal = *scandals[s];
                double hazard = scandal.media + (degree > 0 ? scandal.contagion * static_cast<double>(aware_neighbours) / static_cast<double>(degree) : 0.0);
                if (scandal.per_contact) {  // media and every aware contact pass it on independently (multiplied out, not libm's pow)
                    double unaware = 1.0 - scandal.media;
                    for (std::int64_t c = 0; c < aware_neighbours; ++c) unaware *= 1.0 - scandal.contagion;
                    hazard = 1.0 - unaware;
                }
                if (rng[i].bernoulli(hazard)) {
                    aware_next[s][j] = 1;
                    perception(static_cast<std::int64_t>(j), scandal.firm).credibility *= static_cast<float>(1.0 - scandal.size);
                }
            }
        }
        for (auto j = first; j < last; ++j) measure(j, sum + heard_width);
    };
    const auto sums = reduce_blocks(customers, heard_width + static_cast<std::size_t>(firms) * measure_count, context.threads,
                                    [&](std::int64_t first, std::int64_t last, double* sum) {
                                        StreamBatch streams(seed, Phase::word_of_mouth, static_cast<std::uint64_t>(step), blocks_per_listener);
                                        Listeners batch;
                                        for_each_batch(first, last, [&](std::int64_t from, std::int64_t to) { listen(from, to, streams, batch, sum); });
                                    });
    for (const auto s : running) std::swap(aware[s], aware_next[s]);
    for (int f = 0; f < firms; ++f) {
        tally[f * slot_count + wom_positive] += sums[static_cast<std::size_t>(f) * 2];
        tally[f * slot_count + wom_negative] += sums[static_cast<std::size_t>(f) * 2 + 1];
    }
    return {sums.begin() + static_cast<std::ptrdiff_t>(heard_width), sums.end()};
}

// A message to customer j of what a contact experienced: it moves j's perception of that firm.
void Simulation::State::hear(std::int64_t j, Experience x, double* heard) {
    const auto rate = static_cast<float>(spec.behaviour.rate_word_of_mouth);
    const bool positive = x.flags & Experience::positive;
    heard[x.firm * 2 + (positive ? 0 : 1)] += 1;
    auto& p = perception(j, x.firm);
    const bool delivered = x.flags & Experience::delivered;
    move_toward(p.reliability, delivered ? 1.0f : 0.0f, rate);
    if (x.flags & Experience::breach_only) return;
    move_toward(p.credibility, delivered ? static_cast<float>(firm[x.firm].policy.competence) : 0.0f, rate);
    move_toward(p.intimacy, 0.5f * static_cast<float>(x.intimacy_code), rate);
    move_toward(p.self_orientation, (x.flags & Experience::self_serving) ? 1.0f : 0.0f, rate);
}

// Customer k's contribution to the step's measurement, per firm. The own firm's slots are reached by index,
// not by a test inside the loop over firms: which firm is a customer's is random, so the test would mispredict.
void Simulation::State::measure(std::int64_t k, double* sum) const {
    const auto lambda = static_cast<float>(spec.behaviour.trust_lambda);
    for (int f = 0; f < firms; ++f) sum[f * measure_count + m_trust_all] += trust(perception(k, f), lambda);
    const int own = c_firm[static_cast<std::size_t>(k)];
    const auto& p = perception(k, own);
    const float t = trust(p, lambda);
    double* s = sum + own * measure_count;
    s[m_customers] += 1;
    s[m_trust] += t;
    s[m_credibility] += p.credibility;
    s[m_reliability] += p.reliability;
    s[m_intimacy] += p.intimacy;
    s[m_self] += p.self_orientation;
    s[m_distrust] += t < spec.behaviour.distrust_threshold ? 1 : 0;
}

// Phase D: accounts, the firms' trust in customers, adaptive control, and the step's metrics.
StepMetrics Simulation::State::firms_phase(const std::vector<double>& tally, const std::vector<double>& measured) {
    const auto& b = spec.behaviour;
    StepMetrics metrics;
    metrics.step = step;
    metrics.values.assign(static_cast<std::size_t>(firms), {});

    std::vector<std::int64_t> latest_scandal(static_cast<std::size_t>(firms), -1);
    {
        std::int64_t s = 0;
        for (const auto& event : spec.events)
            if (event.kind == Event::Kind::scandal) {
                if (event.step <= step) latest_scandal[static_cast<std::size_t>(event.firm)] = s;
                ++s;
            }
    }

    for (int f = 0; f < firms; ++f) {
        auto& state = firm[static_cast<std::size_t>(f)];
        const auto& policy = state.policy;
        const double* t = tally.data() + f * slot_count;
        const double* m = measured.data() + f * measure_count;
        const auto at = [&](Metric metric) -> double& { return metrics.at(f, metric); };
        const double n_own = m[m_customers];
        const auto mean_own = [&](double total) { return n_own > 0 ? total / n_own : std::nan(""); };

        at(Metric::customers) = n_own;
        at(Metric::share) = n_own / static_cast<double>(customers);
        at(Metric::active) = t[active];
        at(Metric::purchases) = t[purchases];
        at(Metric::lost_sales) = t[lost_sales];
        at(Metric::churn_in) = t[churn_in];
        at(Metric::churn_out) = t[churn_out];
        at(Metric::trust) = mean_own(m[m_trust]);
        at(Metric::trust_all) = m[m_trust_all] / static_cast<double>(customers);
        at(Metric::credibility) = mean_own(m[m_credibility]);
        at(Metric::reliability) = mean_own(m[m_reliability]);
        at(Metric::intimacy) = mean_own(m[m_intimacy]);
        at(Metric::self_orientation) = mean_own(m[m_self]);
        at(Metric::distrust_share) = mean_own(m[m_distrust]);
        at(Metric::nps) = t[respondents] > 0 ? 100.0 * (t[promoters] - t[detractors]) / t[respondents] : std::nan("");
        at(Metric::checks) = t[checks];
        at(Metric::fraud_attempts) = t[fraud_attempts];
        at(Metric::fraud_detected) = t[fraud_detected];
        const double fraud_loss = (t[fraud_attempts] - t[fraud_detected]) * policy.fraud_loss;
        at(Metric::fraud_loss) = fraud_loss;
        at(Metric::triggers) = t[triggers];
        at(Metric::oversold) = t[oversold];

        double quits = 0, employee_trust = 0, trustworthiness = 0;
        for (std::int64_t e = state.first_employee; e < state.first_employee + state.employee_count; ++e) {
            quits += e_quit[static_cast<std::size_t>(e)];
            employee_trust += e_trust[e];
            trustworthiness += e_trustworthiness[e];
        }
        const double revenue = policy.price * (t[purchases] + policy.oversell_markup * t[oversold]);
        const double costs = policy.check_cost * t[checks] + fraud_loss + policy.hire_cost * quits + policy.trigger_cost * t[triggers];
        at(Metric::revenue) = revenue;
        at(Metric::costs) = costs;
        at(Metric::profit) = policy.margin * revenue - costs;
        at(Metric::employee_trust) = employee_trust / static_cast<double>(state.employee_count);
        at(Metric::employee_trustworthiness) = trustworthiness / static_cast<double>(state.employee_count);
        at(Metric::quits) = quits;
        at(Metric::wom_positive) = t[wom_positive];
        at(Metric::wom_negative) = t[wom_negative];
        at(Metric::control_customers) = policy.control_customers;
        if (t[checks] > 0) state.trust_in_customers += b.firm_learning_rate * (t[checked_good_faith] / t[checks] - state.trust_in_customers);
        at(Metric::trust_in_customers) = state.trust_in_customers;
        double aware_share = 0;
        if (const auto s = latest_scandal[static_cast<std::size_t>(f)]; s >= 0) {
            const auto& flags = aware[static_cast<std::size_t>(s)];
            aware_share = static_cast<double>(std::count(flags.begin(), flags.end(), std::uint8_t{1})) / static_cast<double>(customers);
        }
        at(Metric::scandal_awareness) = aware_share;

        // Adaptive control: a fraud-loss rate over the window above threshold raises checks on everyone.
        auto& adaptive = state.policy.adaptive_control;
        if (adaptive.enabled) {
            state.window_fraud_loss.push_back(fraud_loss);
            state.window_revenue.push_back(revenue);
            // More than one step may fall out at once: an event can shorten the window.
            if (const auto excess = static_cast<std::int64_t>(state.window_revenue.size()) - adaptive.window; excess > 0) {
                state.window_fraud_loss.erase(state.window_fraud_loss.begin(), state.window_fraud_loss.begin() + excess);
                state.window_revenue.erase(state.window_revenue.begin(), state.window_revenue.begin() + excess);
            }
            const double loss = std::accumulate(state.window_fraud_loss.begin(), state.window_fraud_loss.end(), 0.0);
            const double income = std::accumulate(state.window_revenue.begin(), state.window_revenue.end(), 0.0);
            const bool over = income > 0 ? loss / income > adaptive.threshold : loss > 0;
            auto& kappa = state.policy.control_customers;
            kappa = over ? std::min(adaptive.ceiling, kappa + adaptive.raise) : std::max(adaptive.floor, kappa - adaptive.relax);
        } else {  // switched on again by an event, it measures afresh
            state.window_fraud_loss.clear();
            state.window_revenue.clear();
        }
    }
    return metrics;
}

MemoryEstimate Simulation::estimated_memory(const ModelSpec& spec, Snapshots snapshots) {
    const auto firms = static_cast<double>(spec.firms.size());
    double scandals = 0, employees = 0;
    for (const auto& e : spec.events) scandals += e.kind == Event::Kind::scandal ? 1 : 0;
    for (const auto& f : spec.firms) employees += static_cast<double>(f.employees);
    const double per_customer = 3 * sizeof(float) + sizeof(std::uint8_t) + sizeof(std::int16_t) + firms * sizeof(Perception) +
                                sizeof(Experience) + 2 * scandals + sizeof(std::int64_t) /* network offsets */;
    const double per_employee = 5 * sizeof(float) + sizeof(std::int16_t) + sizeof(Perception) + sizeof(std::uint8_t);
    double edge_ends = 0;
    switch (spec.network.kind) {
        case NetworkSpec::Kind::none:
        case NetworkSpec::Kind::well_mixed: break;
        case NetworkSpec::Kind::edge_list: edge_ends = spec.network.edges ? 2.0 * static_cast<double>(spec.network.edges->size()) : 0; break;
        default: edge_ends = spec.network.mean_degree * static_cast<double>(spec.customers.count);
    }
    // Each edge end: 4 bytes in the network, and an edge-list file's edges (4 more) held by the scenario for
    // the whole run. At its construction, the generators' per-block edge lists (4 bytes per end, and half as
    // much again, on average, of growth slack) are concatenated into one (4 more); a file's edges are copied.
    const bool edge_list = spec.network.kind == NetworkSpec::Kind::edge_list;
    const double network = (edge_list ? 8 : 4) * edge_ends, construction = (edge_list ? 4 : 6) * edge_ends;
    // A snapshot copies what it shows (per customer: firm, trust and perception in each firm) while it is
    // written; that is after construction, so the larger of the two is the peak.
    const auto& record = spec.record;
    const bool taken = snapshots == Snapshots::as_recorded;
    const double snapshot =
        (taken && record.snapshot_customers ? (sizeof(std::int16_t) + firms * 5 * sizeof(float)) * static_cast<double>(spec.customers.count) : 0) +
        (taken && record.snapshot_employees ? (sizeof(std::int16_t) + 5 * sizeof(float)) * employees : 0);
    // A thread's batch of listeners holds, per contact, its record and a news count (and, well mixed, the
    // contact drawn), sized for the batch with the most contacts: a few kB at ten contacts each, tens of MB at
    // the 10,000 a well-mixed market may draw, or with a hub of millions in an edge list.
    const bool well_mixed = spec.network.kind == NetworkSpec::Kind::well_mixed;
    const auto batch = static_cast<double>(StreamBatch::agents);
    double batch_contacts = 0;
    switch (spec.network.kind) {
        case NetworkSpec::Kind::none: break;
        case NetworkSpec::Kind::well_mixed: batch_contacts = batch * std::round(spec.network.mean_degree); break;
        case NetworkSpec::Kind::edge_list:
            if (spec.network.edges) {  // the batch of consecutive listeners with the most edge ends
                std::vector<double> batch_ends(static_cast<std::size_t>(spec.customers.count / StreamBatch::agents + 1), 0.0);
                for (const auto& e : *spec.network.edges)
                    for (const auto end : {e.a, e.b}) batch_ends[static_cast<std::size_t>(end) / StreamBatch::agents] += 1;
                batch_contacts = *std::max_element(batch_ends.begin(), batch_ends.end());
            }
            break;
        case NetworkSpec::Kind::barabasi_albert:  // its largest hub has about m sqrt(N) contacts
            batch_contacts = batch * spec.network.mean_degree + spec.network.mean_degree / 2 * std::sqrt(static_cast<double>(spec.customers.count));
            break;
        default: batch_contacts = batch * spec.network.mean_degree;
    }
    const double per_contact = sizeof(Experience) + sizeof(std::size_t) + (well_mixed ? sizeof(std::int32_t) : 0);
    return {per_customer * static_cast<double>(spec.customers.count) + per_employee * employees + network + std::max(construction, snapshot),
            batch_contacts * per_contact};
}

Simulation::Simulation(ModelSpec spec, Context context) : state_(std::make_unique<State>(std::move(spec), std::move(context))) {}
Simulation::~Simulation() = default;

std::int64_t Simulation::current_step() const noexcept { return state_->step; }
const PhaseSeconds& Simulation::phase_seconds() const noexcept { return state_->seconds; }
const ModelSpec& Simulation::spec() const noexcept { return state_->spec; }
const Network& Simulation::network() const noexcept { return state_->network; }

StepMetrics Simulation::step() {
    auto& s = *state_;
    std::vector<double> breach_size(static_cast<std::size_t>(s.firms), 0.0);
    auto lap = std::chrono::steady_clock::now();
    const auto time = [&lap](double& seconds) {
        const auto now = std::chrono::steady_clock::now();
        seconds += std::chrono::duration<double>(now - lap).count();
        lap = now;
    };
    s.apply_events(breach_size);
    s.employees_phase();
    time(s.seconds.employees);
    auto tally = s.customers_phase(breach_size);
    time(s.seconds.customers);
    const auto measured = s.word_of_mouth_phase(tally);
    time(s.seconds.word_of_mouth);
    auto metrics = s.firms_phase(tally, measured);
    time(s.seconds.firms);
    ++s.step;
    return metrics;
}

namespace {
// Recording happens after steps k-1, 2k-1, ... and after the last step.
bool due(std::int64_t done, std::int64_t every, std::int64_t steps) { return done == steps || (every > 0 && done % every == 0); }
}  // namespace

bool Simulation::run(Recorder& recorder) {
    const auto started = std::chrono::steady_clock::now();
    const auto& spec = state_->spec;
    const auto steps = spec.simulation.steps;
    const auto& record = spec.record;
    recorder.begin(spec, customer_dispositions());
    while (current_step() < steps) {
        recorder.record_step(step());
        const auto done = current_step();
        if (record.histogram_every > 0 && due(done, record.histogram_every, steps)) recorder.record_histogram(histogram());
        if ((record.snapshot_customers || record.snapshot_employees) && due(done, record.snapshot_every, steps))
            recorder.record_snapshot(snapshot(record.snapshot_customers, record.snapshot_employees));
        if (state_->context.progress && !state_->context.progress(done, steps)) return false;
    }
    recorder.end(RunInfo{state_->context.threads, std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()});
    return true;
}

TrustHistogram Simulation::histogram() const {
    const auto& s = *state_;
    TrustHistogram h;
    h.step = s.step - 1;
    h.bins = s.spec.record.histogram_bins;
    const auto lambda = static_cast<float>(s.spec.behaviour.trust_lambda);
    const auto counts = reduce_in_blocks(s.customers, static_cast<std::size_t>(s.firms * h.bins), s.context.threads, [&](std::int64_t k, double* c) {
        for (int f = 0; f < s.firms; ++f) {
            const auto bin = std::clamp(static_cast<std::int64_t>(trust(s.perception(k, f), lambda) * static_cast<float>(h.bins)), std::int64_t{0}, h.bins - 1);
            c[f * h.bins + bin] += 1;
        }
    });
    h.counts.assign(counts.begin(), counts.end());
    return h;
}

Snapshot Simulation::snapshot(bool customers, bool employees) const {
    const auto& s = *state_;
    Snapshot snap;
    snap.step = s.step - 1;
    snap.has_customers = customers;
    snap.has_employees = employees;
    const auto lambda = static_cast<float>(s.spec.behaviour.trust_lambda);
    if (customers) {
        auto& c = snap.customers;
        c.firm = s.c_firm;
        c.trust.resize(s.c_perception.size());
        c.perception.resize(s.c_perception.size() * 4);
        for (std::size_t i = 0; i < s.c_perception.size(); ++i) {
            const auto& p = s.c_perception[i];
            c.trust[i] = trust(p, lambda);
            std::copy_n(std::array{p.credibility, p.reliability, p.intimacy, p.self_orientation}.begin(), 4, c.perception.begin() + static_cast<std::ptrdiff_t>(4 * i));
        }
    }
    if (employees) {
        auto& e = snap.employees;
        const auto copy = [](const Eigen::ArrayXf& a) { return std::vector<float>(a.data(), a.data() + a.size()); };
        e.firm = s.e_firm;
        e.trust = copy(s.e_trust);
        e.trustworthiness = copy(s.e_trustworthiness);
        e.honesty = copy(s.e_honesty);
        e.reciprocity = copy(s.e_reciprocity);
        e.propensity = copy(s.e_propensity);
    }
    return snap;
}

CustomerDispositions Simulation::customer_dispositions() const {
    const auto& s = *state_;
    const auto view = [](const Eigen::ArrayXf& a) { return std::span<const float>(a.data(), static_cast<std::size_t>(a.size())); };
    return {view(s.c_propensity), view(s.c_honesty), view(s.c_reciprocity), s.c_opportunist};
}

}  // namespace trustsim
