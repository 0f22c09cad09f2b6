// Random durations for the pacing simulator: fixed, uniform, exponential, lognormal, mixtures.
// Only the simulator draws from these; policies learn their own estimates from what they observe.
#pragma once

#include <memory>
#include <random>
#include <string>
#include <vector>

namespace outpace::pacing {

using Rng = std::mt19937_64;

class Distribution {
  public:
    enum class Kind { fixed, uniform, exponential, lognormal, mixture };

    static Distribution fixed(double value_s);
    static Distribution uniform(double min_s, double max_s);
    static Distribution exponential(double mean_s);
    // Parameterised by its mean and coefficient of variation, as call-center data is reported.
    static Distribution lognormal(double mean_s, double cv);
    static Distribution mixture(std::vector<std::pair<double, Distribution>> weighted);

    double sample(Rng& rng) const;
    double mean() const;
    Kind kind() const { return kind_; }

  private:
    Distribution(Kind kind, double a, double b);
    Kind kind_ = Kind::fixed;
    double a_ = 0,
           b_ = 0;  // fixed: a; uniform: [a,b]; exponential: mean a; lognormal: mu a, sigma b
    std::vector<std::pair<double, Distribution>> parts_;  // mixture: cumulative weight, part
};

}  // namespace outpace::pacing
