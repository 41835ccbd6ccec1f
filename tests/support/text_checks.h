#ifndef OSM_TESTS_SUPPORT_TEXT_CHECKS_H_
#define OSM_TESTS_SUPPORT_TEXT_CHECKS_H_

#include <string>

namespace osm::testing {

// Strict UTF-8 check, independent of the code under test: shortest forms
// only, no surrogates, at most U+10FFFF.
bool IsValidUtf8(const std::string& s);

}  // namespace osm::testing

#endif  // OSM_TESTS_SUPPORT_TEXT_CHECKS_H_
