#include "pacing/distribution.h"

#include <cmath>

namespace outpace::pacing {

Distribution::Distribution(Kind kind, double a, double b) : kind_(kind), a_(a), b_(b) {}

Distribution Distribution::fixed(double v) {
    return {Kind::fixed, v, 0};
}
Distribution Distribution::uniform(double lo, double hi) {
    return {Kind::uniform, lo, hi};
}
Distribution Distribution::exponential(double mean) {
    return {Kind::exponential, mean, 0};
}

Distribution Distribution::lognormal(double mean, double cv) {
    const double sigma2 = std::log(1 + cv * cv);
    return {Kind::lognormal, std::log(mean) - sigma2 / 2, std::sqrt(sigma2)};
}

Distribution Distribution::mixture(std::vector<std::pair<double, Distribution>> weighted) {
    Distribution d(Kind::mixture, 0, 0);
    double total = 0;
    for (auto& [w, part] : weighted) total += w;
    double cum = 0;
    for (auto& [w, part] : weighted) {
        cum += w / total;
        d.parts_.emplace_back(cum, std::move(part));
    }
    return d;
}

double Distribution::sample(Rng& rng) const {
    switch (kind_) {
        case Kind::fixed:
            return a_;
        case Kind::uniform:
            return std::uniform_real_distribution<double>(a_, b_)(rng);
        case Kind::exponential:
            return std::exponential_distribution<double>(1 / a_)(rng);
        case Kind::lognormal:
            return std::lognormal_distribution<double>(a_, b_)(rng);
        case Kind::mixture: {
            const double u = std::uniform_real_distribution<double>(0, 1)(rng);
            for (const auto& [cum, part] : parts_)
                if (u <= cum) return part.sample(rng);
            return parts_.back().second.sample(rng);
        }
    }
    return 0;
}

double Distribution::mean() const {
    switch (kind_) {
        case Kind::fixed:
            return a_;
        case Kind::uniform:
            return (a_ + b_) / 2;
        case Kind::exponential:
            return a_;
        case Kind::lognormal:
            return std::exp(a_ + b_ * b_ / 2);
        case Kind::mixture: {
            double m = 0, prev = 0;
            for (const auto& [cum, part] : parts_) m += (cum - prev) * part.mean(), prev = cum;
            return m;
        }
    }
    return 0;
}

}  // namespace outpace::pacing
