// A small SVG line plot: one or more named series of (x, y) points on linear
// axes, for the curves `splitpath bench --csv DIR` draws (the scaling curve).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace splitpath::sim {

struct PlotSeries {
  std::string name;
  std::vector<std::pair<double, double>> points;  // (x, y), in x order
};

struct Plot {
  std::string title;
  std::string x_label;
  std::string y_label;
  std::vector<PlotSeries> series;
};

// The whole SVG document.
std::string render_svg_plot(const Plot& plot);

}  // namespace splitpath::sim
