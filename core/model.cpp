#include "core/model.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace cbtrade {

namespace {

constexpr std::size_t max_dim = max_features + 1;
using Vec = std::array<double, max_dim>;
using Mat = std::array<std::array<double, max_dim>, max_dim>;

// Solves A v = b for symmetric positive definite A (dimension d) by Cholesky. False if not SPD.
bool cholesky_solve(Mat a, Vec b, std::size_t d, Vec& v) {
    for (std::size_t j = 0; j < d; ++j) {
        double diag = a[j][j];
        for (std::size_t k = 0; k < j; ++k) diag -= a[j][k] * a[j][k];
        if (!(diag > 0)) return false;
        a[j][j] = std::sqrt(diag);
        for (std::size_t i = j + 1; i < d; ++i) {
            double s = a[i][j];
            for (std::size_t k = 0; k < j; ++k) s -= a[i][k] * a[j][k];
            a[i][j] = s / a[j][j];
        }
    }
    for (std::size_t i = 0; i < d; ++i) {  // L y = b
        double s = b[i];
        for (std::size_t k = 0; k < i; ++k) s -= a[i][k] * b[k];
        b[i] = s / a[i][i];
    }
    for (std::size_t i = d; i-- > 0;) {  // L^T v = y
        double s = b[i];
        for (std::size_t k = i + 1; k < d; ++k) s -= a[k][i] * v[k];
        v[i] = s / a[i][i];
    }
    return true;
}

// log(1 + e^s) without overflow.
double softplus(double s) {
    return s > 0 ? s + std::log1p(std::exp(-s)) : std::log1p(std::exp(s));
}

}  // namespace

double predict_up(const ModelWeights& m, const FeatureVector& f) noexcept {
    double s = m.intercept;
    for (std::size_t j = 0; j < m.n_features; ++j) s += m.coef[j] * f.x[j];
    return sigmoid(s);
}

ModelWeights fit_logistic(std::span<const FeatureVector> x, std::span<const std::uint8_t> y, ModelMode mode,
                          FitOptions opts) {
    if (x.empty() || x.size() != y.size())
        throw std::invalid_argument("fit_logistic: need equally many feature rows and labels, at least one");
    ModelWeights m;
    m.mode = mode;
    const std::size_t nf = feature_count(mode);
    const std::size_t d = nf + 1;
    m.n_features = static_cast<std::uint8_t>(nf);
    const double n = static_cast<double>(x.size());

    for (std::size_t j = 0; j < nf; ++j) {
        double sum = 0;
        for (const auto& r : x) sum += r.x[j];
        const double mean = sum / n;
        double m2 = 0;
        for (const auto& r : x) m2 += (r.x[j] - mean) * (r.x[j] - mean);
        const double sd = std::sqrt(m2 / n);
        m.mean[j] = mean;
        m.scale[j] = (std::isfinite(sd) && sd > 1e-12) ? sd : 1.0;
    }

    auto standardise = [&](const FeatureVector& r, Vec& z) {
        z[0] = 1.0;
        for (std::size_t j = 0; j < nf; ++j) z[j + 1] = (r.x[j] - m.mean[j]) / m.scale[j];
    };
    auto objective = [&](const Vec& w) {  // penalised negative log-likelihood
        double loss = 0;
        Vec z{};
        for (std::size_t i = 0; i < x.size(); ++i) {
            standardise(x[i], z);
            double s = 0;
            for (std::size_t j = 0; j < d; ++j) s += w[j] * z[j];
            loss += softplus(s) - (y[i] ? s : 0.0);
        }
        for (std::size_t j = 1; j < d; ++j) loss += 0.5 * opts.l2 * w[j] * w[j];
        return loss;
    };

    Vec w{};
    double current = objective(w);
    for (int it = 0; it < opts.max_iterations; ++it) {
        Vec grad{};
        Mat hess{};
        Vec z{};
        for (std::size_t i = 0; i < x.size(); ++i) {
            standardise(x[i], z);
            double s = 0;
            for (std::size_t j = 0; j < d; ++j) s += w[j] * z[j];
            const double p = sigmoid(s);
            const double r = (y[i] ? 1.0 : 0.0) - p;
            const double h = p * (1.0 - p);
            for (std::size_t j = 0; j < d; ++j) {
                grad[j] += r * z[j];
                for (std::size_t k = 0; k <= j; ++k) hess[j][k] += h * z[j] * z[k];
            }
        }
        for (std::size_t j = 0; j < d; ++j) {
            for (std::size_t k = 0; k < j; ++k) hess[k][j] = hess[j][k];
            if (j > 0) {
                grad[j] -= opts.l2 * w[j];
                hess[j][j] += opts.l2;
            } else {
                hess[0][0] += 1e-9;  // keeps the system definite when every p is 0 or 1
            }
        }
        Vec step{};
        if (!cholesky_solve(hess, grad, d, step)) break;
        // Backtracking: Newton steps can overshoot far from the optimum.
        double t = 1.0;
        Vec next{};
        double next_obj = current;
        for (int halvings = 0; halvings < 30; ++halvings, t *= 0.5) {
            for (std::size_t j = 0; j < d; ++j) next[j] = w[j] + t * step[j];
            next_obj = objective(next);
            if (next_obj <= current) break;
        }
        if (!(next_obj <= current)) break;
        double largest = 0;
        for (std::size_t j = 0; j < d; ++j) largest = std::max(largest, std::fabs(t * step[j]));
        w = next;
        current = next_obj;
        m.iterations = static_cast<std::uint16_t>(it + 1);
        if (largest < opts.tolerance) {
            m.converged = true;
            break;
        }
    }

    m.std_w = w;
    m.intercept = w[0];
    for (std::size_t j = 0; j < nf; ++j) {
        m.coef[j] = w[j + 1] / m.scale[j];
        m.intercept -= m.coef[j] * m.mean[j];
    }
    return m;
}

}  // namespace cbtrade
